package scenarios

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxSize bounds a scenario file; scenarios are hand-written and small.
const MaxSize = 1 << 20

// maxNodes bounds the nodes the strict walk visits, so that alias bombs
// ("billion laughs") cost a bounded amount of work.
const maxNodes = 100_000

// source remembers where each path of a parsed scenario was written.
type source struct {
	file  string
	lines map[string]int
}

// where returns "file:line" for path or, failing that, for its nearest
// ancestor that was written in the file.
func (s *source) where(p string) string {
	if s == nil {
		return ""
	}
	for q := p; ; q = parentPath(q) {
		if line, ok := s.lines[q]; ok {
			return s.file + ":" + strconv.Itoa(line)
		}
		if q == "" {
			return s.file
		}
	}
}

func (s *source) line(p string) int {
	if s == nil {
		return 0
	}
	for q := p; q != ""; q = parentPath(q) {
		if line, ok := s.lines[q]; ok {
			return line
		}
	}
	return 0
}

func (s *source) present(p string) bool {
	_, ok := s.lines[p]
	return ok
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// Load reads and parses the scenario file at path; see Parse.
func Load(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, path, err)
	}
	return Parse(data, path)
}

// Parse decodes a scenario strictly: unknown fields and values of the wrong
// type are reported with their path and line, defaults fill the fields the
// file leaves out, and Validate runs. All problems come back at once,
// joined, each a *FieldError ("scenario.yaml:12: timing.sped: unknown
// field"). name is the file name used in messages; a relative recording
// path is resolved against its directory.
func Parse(data []byte, name string) (*Scenario, error) {
	if len(data) > MaxSize {
		return nil, &FieldError{Where: name, Err: fmt.Errorf("larger than %d bytes", MaxSize)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FieldError{Where: name, Err: errors.New("empty scenario")}
		}
		return nil, syntaxError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &FieldError{Where: name + ":" + strconv.Itoa(extra.Line), Err: errors.New("want a single YAML document")}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, &FieldError{Where: fmt.Sprintf("%s:%d", name, root.Line), Err: fmt.Errorf("want a mapping, got a %s", kindName(root))}
	}

	w := &walker{src: &source{file: name, lines: map[string]int{}}}
	w.walk(root, reflect.TypeOf(Scenario{}), "", root.Line)
	s := &Scenario{src: w.src}
	if err := root.Decode(s); err != nil {
		if len(w.errs) > 0 {
			return nil, joinCapped(name, w.errs)
		}
		// The walk checked every typed field; what remains is inside
		// free-form config (an alias cycle, an alias bomb).
		return nil, syntaxError(name, err)
	}
	s.normaliseConfigs()
	compact(reflect.ValueOf(s).Elem())
	if s.Name == "" && !w.src.present("name") {
		s.Name = nameFromFile(name)
	}
	if p := s.Recording.Path; p != "" && !filepath.IsAbs(p) {
		s.Recording.Path = filepath.Join(filepath.Dir(name), p)
	}
	s.setDefaults(w.src.present)
	if len(w.errs) == 0 {
		if err := s.validate(nil); err != nil {
			return nil, err
		}
		return s, nil
	}
	// The walk removed what it rejected, so the rest could be decoded and
	// validated: report those problems too, except where they only echo a
	// value the walk already rejected.
	errs := w.errs
	for _, e := range flatten(s.validate(nil)) {
		var fe *FieldError
		if errors.As(e, &fe) && !w.rejected(fe.Path) {
			errs = append(errs, e)
		}
	}
	sortFieldErrors(errs, func(fe *FieldError) int {
		_, l, _ := strings.Cut(fe.Where, name+":")
		n, _ := strconv.Atoi(l)
		return n
	})
	return nil, joinCapped(name, errs)
}

// MaxErrors bounds the problems one load reports: past a screenful the
// file is probably not a scenario at all.
const MaxErrors = 25

func joinCapped(name string, errs []error) error {
	if len(errs) > MaxErrors {
		more := &FieldError{Where: name, Err: fmt.Errorf("%d more problems not shown", len(errs)-MaxErrors)}
		errs = append(errs[:MaxErrors:MaxErrors], more)
	}
	return errors.Join(errs...)
}

// validate runs Validate and says where each problem was written: at the
// flag that set the field (flags maps paths to flag names) or at the line of
// the file.
func (s *Scenario) validate(flags map[string]string) error {
	errs := flatten(s.Validate())
	if len(errs) == 0 {
		return nil
	}
	for _, e := range errs {
		var fe *FieldError
		if !errors.As(e, &fe) || fe.Where != "" {
			continue
		}
		if f, ok := flagFor(flags, fe.Path); ok {
			fe.Where = f
		} else {
			fe.Where = s.src.where(fe.Path)
		}
	}
	sortFieldErrors(errs, func(fe *FieldError) int { return s.src.line(fe.Path) })
	file := ""
	if s.src != nil {
		file = s.src.file
	}
	return joinCapped(file, errs)
}

func flagFor(flags map[string]string, p string) (string, bool) {
	for q := p; q != ""; q = parentPath(q) {
		if f, ok := flags[q]; ok {
			return f, true
		}
	}
	return "", false
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

func syntaxError(name string, err error) error {
	msg := err.Error()
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		return &FieldError{Where: name + ":" + m[1], Err: errors.New(msg[len(m[0]):])}
	}
	return &FieldError{Where: name, Err: errors.New(strings.TrimPrefix(msg, "yaml: "))}
}

func nameFromFile(file string) string {
	base := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	b := []byte(base)
	for i, c := range b {
		if !(c == '.' || c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			b[i] = '-'
		}
	}
	out := strings.TrimLeft(string(b), ".-_")
	if len(out) > 64 {
		out = out[:64]
	}
	if out == "" {
		return "scenario"
	}
	return out
}

// walker checks a YAML tree against the Go types before anything is
// decoded. yaml.v3's KnownFields does not reach into custom unmarshalers
// and reports one error with no path, so the walk does the strict part:
// unknown and duplicate fields, wrong kinds and unparsable scalars, each
// with its path and line. It also records the line of every path for the
// later validation errors.
type walker struct {
	src    *source
	errs   []error
	failed []string
	nodes  int
}

// rejected tells whether p is at or under a path the walk rejected.
func (w *walker) rejected(p string) bool {
	for _, f := range w.failed {
		if p == f || strings.HasPrefix(p, f) && (p[len(f)] == '.' || p[len(f)] == '[') {
			return true
		}
	}
	return false
}

// reject reports err at path and turns n into a null, so that decoding the
// rest of the document can go on and find the problems that remain.
func (w *walker) reject(n *yaml.Node, line int, path string, err error) {
	w.fail(line, path, err)
	w.failed = append(w.failed, path)
	delete(w.src.lines, path)
	*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
}

var (
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	rateType        = reflect.TypeOf(Rate{})
)

func (w *walker) fail(line int, path string, err error) {
	w.errs = append(w.errs, &FieldError{Where: w.src.file + ":" + strconv.Itoa(line), Path: path, Err: err})
}

// walk checks slot against t. An alias is followed for reading, but a
// rejected value is nulled in slot itself, never in the shared anchor.
func (w *walker) walk(slot *yaml.Node, t reflect.Type, path string, line int) {
	n := slot
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if w.nodes++; w.nodes > maxNodes {
		if w.nodes == maxNodes+1 {
			w.fail(line, path, fmt.Errorf("more than %d nodes (aliases expanded)", maxNodes))
		}
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // absent, as far as defaults are concerned
	}
	if path != "" {
		w.src.lines[path] = line
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rateType && n.Kind == yaml.SequenceNode {
		if len(n.Content) == 0 {
			w.reject(slot, n.Line, path, errors.New("a rate curve needs at least one point"))
			return
		}
		t = reflect.TypeOf([]RatePoint{})
	} else if reflect.PointerTo(t).Implements(unmarshalerType) {
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			w.reject(slot, n.Line, path, err)
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		w.mapping(slot, n, path, func(k, v *yaml.Node) bool {
			f, ok := fieldByName(t, k.Value)
			if !ok {
				w.fail(k.Line, joinPath(path, key(k.Value)), ErrUnknownField)
				return false
			}
			w.walk(v, f.Type, joinPath(path, k.Value), k.Line)
			return true
		})
	case reflect.Map:
		w.mapping(slot, n, path, func(k, v *yaml.Node) bool {
			if t.Elem().Kind() != reflect.Interface {
				w.walk(v, t.Elem(), joinPath(path, key(k.Value)), k.Line)
			}
			return true
		})
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.reject(slot, n.Line, path, fmt.Errorf("want a list, got a %s", kindName(n)))
			return
		}
		for i, item := range n.Content {
			w.walk(item, t.Elem(), path+index(i), item.Line)
		}
	case reflect.Interface:
	default:
		w.scalar(slot, n, t, path)
	}
}

// mapping checks that n is a mapping with unique scalar keys and calls fn
// for each pair; pairs that fail, or for which fn returns false, are
// removed so that the rest can be decoded.
func (w *walker) mapping(slot, n *yaml.Node, path string, fn func(k, v *yaml.Node) bool) {
	if n.Kind != yaml.MappingNode {
		w.reject(slot, n.Line, path, fmt.Errorf("want a mapping, got a %s", kindName(n)))
		return
	}
	seen := map[string]int{}
	kept := n.Content[:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch prev, dup := seen[k.Value]; {
		case k.Kind != yaml.ScalarNode || k.Value == "<<":
			w.fail(k.Line, path, errors.New("keys must be plain strings (no merge keys)"))
		case dup:
			w.fail(k.Line, joinPath(path, key(k.Value)), fmt.Errorf("duplicate key (first at line %d)", prev))
			w.failed = append(w.failed, joinPath(path, key(k.Value)))
		default:
			seen[k.Value] = k.Line
			if fn(k, v) {
				kept = append(kept, k, v)
			}
		}
	}
	n.Content = kept
}

func (w *walker) scalar(slot, n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.ScalarNode {
		w.reject(slot, n.Line, path, fmt.Errorf("want a %s, got a %s", typeName(t), kindName(n)))
		return
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		w.reject(slot, n.Line, path, fmt.Errorf("%q: want a %s", n.Value, typeName(t)))
	}
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "boolean (true or false)"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "whole number"
	case reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	}
	return t.String()
}

// fieldByName finds the struct field whose yaml name is name.
func fieldByName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if tagName(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// tagName is the field's yaml name, "" for fields YAML does not see.
func tagName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("yaml")
	if tag == "-" {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

// normaliseConfigs gives every extension config the types encoding/json
// produces (float64, string, bool, nil, []any, map[string]any): extensions
// read their config as JSON anyway, and it makes a parsed scenario equal to
// the one parsed from its own YAML (YAML alone turns "!!timestamp" values
// into time.Time one way and into strings the other). A config that has no
// JSON form is left alone for Validate to report.
func (s *Scenario) normaliseConfigs() {
	for _, list := range [][]ExtensionRef{s.Observers, s.Checks, s.Verdict} {
		for i := range list {
			b, err := list[i].ConfigJSON()
			if err != nil || b == nil {
				continue
			}
			var m map[string]any
			if json.Unmarshal(b, &m) == nil {
				list[i].Config = m
			}
		}
	}
}

// Marshal returns the scenario as YAML with two-space indentation: the
// resolved form a run directory keeps. Parse reads it back to an equal
// scenario.
func Marshal(s *Scenario) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("scenarios: marshal: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("scenarios: marshal: %w", err)
	}
	return b.Bytes(), nil
}

// compact turns empty lists and mappings into nil: YAML omits them when
// writing, so "checks: []" and no checks must read the same.
func compact(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			compact(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				compact(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 && !v.IsNil() {
			v.SetZero()
			return
		}
		if v.Kind() == reflect.Slice {
			for i := 0; i < v.Len(); i++ {
				compact(v.Index(i))
			}
		}
	}
}

// Where returns where path was written, "file:line" (or the file alone, or
// "" for a scenario built in code), so that a command checking a field the
// loader cannot check (an extension ID not registered) points at it.
func (s *Scenario) Where(path string) string { return s.src.where(path) }
