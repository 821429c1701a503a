package creds

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrInsecureFile marks a credentials file that group or others may read.
// LoadFile still returns the full map with it, so the caller decides: the
// CLI can refuse the file, or warn and go on.
var ErrInsecureFile = errors.New("creds: credentials file is readable by group or others")

// ErrBadFile marks a credentials file that cannot be used: unreadable, too
// big, not a flat map of strings, or with a duplicate key.
var ErrBadFile = errors.New("creds: bad credentials file")

// MaxFileSize bounds a credentials file.
const MaxFileSize = 1 << 20

// LoadFile reads a flat token map from a YAML or JSON file: each key is a
// placeholder or a session key, each value the token (see Static). A file
// whose first non-blank byte is '{' or whose name ends in ".json" is read as
// JSON, anything else as YAML. Errors wrap ErrBadFile and name the file and
// line; they never quote a value, which would be a token.
//
// When the file parses but its mode lets group or others read it (on
// platforms with Unix permissions), LoadFile returns the map together with
// an error wrapping ErrInsecureFile.
func LoadFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadFile, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadFile, path, err)
	}
	m, err := parse(path, data)
	if err != nil {
		return nil, err
	}
	if runtime.GOOS != "windows" {
		if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o077 != 0 {
			return m, fmt.Errorf("%w: %s has mode %v; chmod 600 it", ErrInsecureFile, path, st.Mode().Perm())
		}
	}
	return m, nil
}

// parse decodes a token map; name is used in errors only.
func parse(name string, data []byte) (map[string]string, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes", ErrBadFile, name, MaxFileSize)
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if strings.HasSuffix(strings.ToLower(name), ".json") || bytes.HasPrefix(trimmed, []byte("{")) {
		return parseJSON(name, data)
	}
	return parseYAML(name, data)
}

func parseJSON(name string, data []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	line := func() int { return 1 + bytes.Count(data[:dec.InputOffset()], []byte("\n")) }
	fail := func(err error) error {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			l := 1 + bytes.Count(data[:min(int(syn.Offset), len(data))], []byte("\n"))
			return fmt.Errorf("%w: %s:%d: %w", ErrBadFile, name, l, err)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: %s:%d: unexpected end of JSON", ErrBadFile, name, line())
		}
		return fmt.Errorf("%w: %s:%d: %w", ErrBadFile, name, line(), err)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, fail(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%w: %s:%d: want a JSON object of strings", ErrBadFile, name, line())
	}
	m := map[string]string{}
	seen := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail(err)
		}
		key, _ := tok.(string) // an object key is always a string
		keyLine := line()
		tok, err = dec.Token()
		if err != nil {
			return nil, fail(err)
		}
		val, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%w: %s:%d: key %q: want a string token", ErrBadFile, name, line(), key)
		}
		if err := addEntry(m, seen, name, key, val, keyLine); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, fail(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %s:%d: data after the JSON object", ErrBadFile, name, line())
	}
	return m, nil
}

func parseYAML(name string, data []byte) (map[string]string, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return map[string]string{}, nil // an empty file: no tokens
		}
		// yaml.v3 errors already read "yaml: line N: ...".
		return nil, fmt.Errorf("%w: %s: %w", ErrBadFile, name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %s:%d: want a single YAML document", ErrBadFile, name, extra.Line)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return map[string]string{}, nil // only comments
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w: %s:%d: want a map of placeholder or session to token", ErrBadFile, name, root.Line)
	}
	m := map[string]string{}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("%w: %s:%d: a key must be a plain string", ErrBadFile, name, k.Line)
		}
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			return nil, fmt.Errorf("%w: %s:%d: key %q: want a string token", ErrBadFile, name, k.Line, k.Value)
		}
		if err := addEntry(m, seen, name, k.Value, v.Value, k.Line); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func addEntry(m map[string]string, seen map[string]int, name, key, val string, line int) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: %s:%d: empty key", ErrBadFile, name, line)
	case strings.TrimSpace(val) == "":
		return fmt.Errorf("%w: %s:%d: key %q: empty token", ErrBadFile, name, line, key)
	}
	if first, dup := seen[key]; dup {
		return fmt.Errorf("%w: %s:%d: key %q repeats line %d", ErrBadFile, name, line, key, first)
	}
	seen[key] = line
	m[key] = val
	return nil
}
