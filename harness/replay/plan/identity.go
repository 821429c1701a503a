package plan

import (
	"strings"

	"github.com/reprise-dev/reprise/recorders/redact"
)

// Identity is a value a request sends that names its user (see the
// amplification note in amplify.go), and where it sits.
type Identity struct {
	At    Location `json:"at"`
	Value string   `json:"value"`
}

// Identities returns the identities node i's request carries, in request
// order. The slice is shared; do not modify.
func (p *Plan) Identities(i int) []Identity {
	if i < 0 || i >= len(p.Nodes) {
		return nil
	}
	return p.identities(p.base(i))
}

func (p *Plan) identities(b int) []Identity {
	if b+1 >= len(p.identOff) {
		return nil
	}
	return p.ident[p.identOff[b]:p.identOff[b+1]]
}

// lastKey is the last object key of a JSON path ("$.a.b[2]" -> "b", with a
// WebSocket frame prefix "[0]$.user" -> "user"), or the path itself for a
// query, form, header or cookie name.
func lastKey(path string) string {
	path = trimIndexes(path)
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	if strings.HasPrefix(path, "$") {
		return ""
	}
	return path
}

// Identity detection. A value names the user when the client sends it
//
//   - under an identity key in a request's JSON body, form, query or
//     WebSocket JSON frame, at any depth: the key, lowercased without '_',
//     '-', '.' and spaces, is one of identityKeys (user, username, user_id,
//     login, email, player, player_id, account, nick, ...); in a login or
//     registration request (a route containing login, signin, register or
//     signup) also one of loginKeys (id, identifier, phone, ...). The
//     generic weakKeys (name, display_name, handle, ...) count only at the
//     top of the document or under an identity parent ($.name,
//     $.player.name), not a span's or an item's name;
//   - as the path segment after /players/, /users/, /accounts/, /members/
//     or /customers/, unless it is a keyword (me, self, current, search,
//     ...: pathKeywords);
//   - or as a whole token (a path segment, a query or header value piece, a
//     JSON leaf, a gRPC string field) equal to an identity already found in
//     an earlier-added request of any session. Recordings are added in
//     recorded order, so the login that names the player comes first; the
//     lookup spans sessions because logins often run in a shared session
//     (the client address) apart from the session they serve, and a clone
//     is a consistent copy of the whole recorded world (clone k of session
//     A naming player B sends clone k of B).
//
// A value qualifies when it is 1..maxIdentityLen bytes without control
// characters, is not true, false or null, and holds no redaction
// placeholder (credentials are not identities). Propagated matches need at
// least minPropagateLen bytes so that "7" does not match every small id.
// Values that are correlations (issued by the server) are dropped once the
// plan is built: they are re-correlated live, not rewritten.
const (
	maxIdentityLen  = 128
	minPropagateLen = 3
)

var identityKeys = setOf("user", "username", "userid", "login", "loginname", "email", "emailaddress",
	"mail", "player", "playerid", "playername", "account", "accountid", "accountname", "nick",
	"nickname", "screenname", "customer", "customerid", "member", "memberid", "uid")

// weakKeys name a user only at the top of a document or inside an object
// under an identity key ($.name, $.player.name), not anywhere (a span's
// name, an item's name).
var weakKeys = setOf("name", "displayname", "fullname", "firstname", "lastname", "handle")

// identityParents are the keys under which a weak key names the user.
var identityParents = setOf("user", "player", "account", "customer", "member", "profile", "owner")

var loginKeys = setOf("id", "identifier", "principal", "subject", "sub", "phone", "msisdn")

var identityCollections = setOf("players", "users", "accounts", "members", "customers")

// pathKeywords follow a collection segment without naming anyone
// (/users/me, /players/search).
var pathKeywords = setOf("me", "self", "current", "new", "search", "all", "list", "count", "batch",
	"bulk", "lookup", "login", "logout", "register", "signup", "signin")

var loginWords = []string{"login", "signin", "register", "signup"}

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

func normKey(k string) string {
	k = strings.ToLower(k)
	if strings.ContainsAny(k, "_-. ") {
		k = strings.Map(func(r rune) rune {
			switch r {
			case '_', '-', '.', ' ':
				return -1
			}
			return r
		}, k)
	}
	return k
}

func identityKey(k string, login bool) bool {
	k = normKey(k)
	return identityKeys[k] || (login && loginKeys[k])
}

// identityPath applies identityKey and the weakKeys rule to the key and its
// parent key (empty at the top of the document).
func identityPath(key, parent string, top, login bool) bool {
	if identityKey(key, login) {
		return true
	}
	return weakKeys[normKey(key)] && (top || identityParents[normKey(parent)])
}

// splitKeys returns the last key of a JSON path, its parent key and whether
// the key sits at the top of the document.
func splitKeys(path string) (key, parent string, top bool) {
	if i := strings.IndexByte(path, '$'); i >= 0 {
		path = path[i:]
	} else {
		return path, "", true // a query, form or header name
	}
	key = lastKey(path)
	rest := strings.TrimSuffix(trimIndexes(path), "."+key)
	return key, lastKey(rest), rest == "$"
}

func trimIndexes(path string) string {
	for strings.HasSuffix(path, "]") {
		i := strings.LastIndexByte(path, '[')
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return path
}

// loginRoute reports whether a route template is a login or registration.
func loginRoute(route string) bool {
	r := normKey(route) // no allocation for a lower-case route without separators
	for _, w := range loginWords {
		if strings.Contains(r, w) {
			return true
		}
	}
	return false
}

func identityValue(s string) bool {
	if len(s) == 0 || len(s) > maxIdentityLen || strings.Contains(s, redact.PlaceholderPrefix) {
		return false
	}
	switch s {
	case "true", "false", "null":
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// identScan finds the identities of one request at a time; known holds
// every identity found so far, canonical strings by value.
type identScan struct {
	ix    *index
	known map[string]string
	login bool
	out   []Identity
	seen  map[Identity]struct{}
}

func (s *identScan) reset(login bool) {
	s.login = login
	s.out = s.out[:0]
	clear(s.seen)
}

// wants is a cheap pre-check for a JSON leaf too short to be a correlation
// candidate, so that its path is only built when it can be an identity.
func (s *identScan) wants(st []jsonFrame, v string) bool {
	if len(s.known) > 0 && len(v) >= minPropagateLen {
		return true
	}
	for i := len(st) - 1; i >= 0; i-- {
		if !st[i].array {
			return identityKey(st[i].key, s.login) || weakKeys[normKey(st[i].key)]
		}
	}
	return false
}

// offer checks one string the request carries at loc.
func (s *identScan) offer(loc Location, v string) {
	switch loc.Part {
	case PartQuery, PartForm, PartJSON, PartWebSocket:
		if key, parent, top := splitKeys(loc.Path); identityPath(key, parent, top, s.login) && identityValue(v) {
			s.record(loc, v, true)
		}
	case PartPath:
		prev := ""
		for seg := range strings.SplitSeq(v, "/") {
			if identityCollections[strings.ToLower(prev)] && identityValue(seg) && !pathKeywords[strings.ToLower(seg)] {
				s.record(loc, seg, true)
			}
			prev = seg
		}
	}
	if len(s.known) == 0 {
		return
	}
	tokens(v, func(t string) {
		if len(t) < minPropagateLen {
			return
		}
		if c, ok := s.known[t]; ok {
			s.record(loc, c, false)
		}
	})
}

func (s *identScan) record(loc Location, v string, found bool) {
	c, ok := s.known[v]
	if !ok {
		if !found {
			return
		}
		c = strings.Clone(v)
		s.known[c] = c
	}
	id := Identity{At: s.ix.locArr[s.ix.location(loc)], Value: c}
	if _, dup := s.seen[id]; dup {
		return
	}
	s.seen[id] = struct{}{}
	s.out = append(s.out, id)
}
