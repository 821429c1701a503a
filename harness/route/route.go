package route

import "strings"

// Placeholder replaces every ID segment in a template.
const Placeholder = "{id}"

// Entity is one ID found in a path together with the collection it belongs
// to: the nearest literal segment before it.
type Entity struct {
	// Kind is the nearest preceding literal segment ("items"), or "" when the
	// ID comes first.
	Kind string `json:"kind"`
	// ID is the segment as it appeared in the path.
	ID string `json:"id"`
}

// Key returns "kind/id", the form used for entity keys.
func (e Entity) Key() string {
	if e.Kind == "" {
		return e.ID
	}
	return e.Kind + "/" + e.ID
}

// Template replaces every segment of path that looks like an ID with
// Placeholder. Anything from '?' or '#' on is dropped, since a template is a
// label and a query would explode its cardinality. gRPC full methods
// ("/pkg.Svc/Method") are returned unchanged. When nothing changes, the input
// string itself is returned and nothing is allocated.
func Template(path string) string {
	path = cutQuery(path)
	if IsGRPCMethod(path) {
		return path
	}
	var b strings.Builder
	last := 0 // bytes of path before last have been copied to b (when b is in use)
	for start := 0; start <= len(path); {
		end := start + strings.IndexByte(path[start:], '/')
		if end < start {
			end = len(path)
		}
		if IsID(path[start:end]) {
			if b.Cap() == 0 {
				// One allocation: a path seldom has more than a few IDs, and
				// a short ID grows by at most len(Placeholder)-1 bytes.
				b.Grow(len(path) + 8)
			}
			b.WriteString(path[last:start])
			b.WriteString(Placeholder)
			last = end
		}
		start = end + 1
	}
	if b.Cap() == 0 {
		return path
	}
	b.WriteString(path[last:])
	return b.String()
}

// Entities returns the IDs in path with their kinds, in path order; nil when
// there are none or path is a gRPC method.
func Entities(path string) []Entity { return AppendEntities(nil, path) }

// AppendEntities appends the entities of path to dst, so that a hot loop can
// reuse one slice. The strings in the result share memory with path.
func AppendEntities(dst []Entity, path string) []Entity {
	path = cutQuery(path)
	if IsGRPCMethod(path) {
		return dst
	}
	kind := ""
	for start := 0; start <= len(path); {
		end := start + strings.IndexByte(path[start:], '/')
		if end < start {
			end = len(path)
		}
		seg := path[start:end]
		switch {
		case seg == "":
		case IsID(seg):
			dst = append(dst, Entity{Kind: kind, ID: seg})
		default:
			kind = seg
		}
		start = end + 1
	}
	return dst
}

func cutQuery(path string) string {
	for i := 0; i < len(path); i++ {
		if path[i] == '?' || path[i] == '#' {
			return path[:i]
		}
	}
	return path
}

// IsGRPCMethod reports whether path has the shape of a gRPC full method name:
// "/" + dotted package-qualified service + "/" + method identifier.
func IsGRPCMethod(path string) bool {
	if len(path) < 4 || path[0] != '/' {
		return false
	}
	rest := path[1:]
	slash := strings.IndexByte(rest, '/')
	if slash <= 0 {
		return false
	}
	svc, method := rest[:slash], rest[slash+1:]
	if strings.IndexByte(svc, '.') < 0 || method == "" || !isAlpha(method[0]) {
		return false
	}
	for part := range strings.SplitSeq(svc, ".") {
		if !isIdent(part) {
			return false
		}
	}
	return isIdent(method)
}

// isIdent reports whether s is a protobuf identifier: [A-Za-z_][A-Za-z0-9_]*.
func isIdent(s string) bool {
	if s == "" || isDigit(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && !isAlpha(c) && c != '_' {
			return false
		}
	}
	return true
}
