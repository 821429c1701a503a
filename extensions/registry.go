package extensions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// ID is a namespaced extension ID: the namespace is everything before the
// last dot ("protocols.grpc" is "grpc" in namespace "protocols").
type ID string

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)

// Namespace returns the part of the ID before its last dot.
func (id ID) Namespace() string {
	if i := strings.LastIndexByte(string(id), '.'); i >= 0 {
		return string(id[:i])
	}
	return ""
}

// Name returns the part of the ID after its last dot.
func (id ID) Name() string { return string(id[strings.LastIndexByte(string(id), '.')+1:]) }

// Extension is implemented by every registered value.
type Extension interface {
	ExtensionInfo() Info
}

// Info describes a registered extension.
type Info struct {
	ID ID
	// New returns a fresh, unconfigured instance. It must have no side
	// effects: the registry may call it just to list or describe.
	New func() Extension
	// Summary is one line for `reprise extensions`.
	Summary string
}

// The optional lifecycle, each a one-method interface.
type (
	// Provisioner sets an extension up after its configuration is decoded.
	Provisioner interface {
		Provision(ctx context.Context) error
	}
	// Validator checks a provisioned extension's configuration.
	Validator interface {
		Validate() error
	}
	// CleanerUpper releases what Provision acquired.
	CleanerUpper interface {
		Cleanup() error
	}
)

// ErrNotFound is returned for an ID nobody registered.
var ErrNotFound = errors.New("extension not registered")

var (
	mu       sync.RWMutex
	registry = map[ID]Info{}
)

// Register adds an extension. It panics on an empty, malformed or duplicate
// ID, or a nil constructor: those are programming errors found at start-up.
func Register(ext Extension) {
	info := ext.ExtensionInfo()
	if info.ID == "" {
		panic("extensions: empty ID")
	}
	if !idPattern.MatchString(string(info.ID)) {
		panic(fmt.Sprintf("extensions: malformed ID %q (want namespace.name, lower case)", info.ID))
	}
	if info.New == nil {
		panic(fmt.Sprintf("extensions: %s: nil New", info.ID))
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[info.ID]; dup {
		panic(fmt.Sprintf("extensions: %s registered twice", info.ID))
	}
	registry[info.ID] = info
}

// Lookup returns the registered extension with this ID.
func Lookup(id ID) (Info, error) {
	mu.RLock()
	defer mu.RUnlock()
	info, ok := registry[id]
	if !ok {
		return Info{}, fmt.Errorf("%s: %w", id, ErrNotFound)
	}
	return info, nil
}

// List returns the registered extensions sorted by ID. With a namespace, only
// those directly in it.
func List(namespace string) []Info {
	mu.RLock()
	defer mu.RUnlock()
	var out []Info
	for id, info := range registry {
		if namespace == "" || id.Namespace() == namespace {
			out = append(out, info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Load creates the extension with this ID, decodes its JSON configuration
// strictly (unknown fields are errors), provisions and validates it. Every
// error is wrapped with the extension's ID. A nil or empty config means the
// defaults.
func Load(ctx context.Context, id ID, config []byte) (Extension, error) {
	info, err := Lookup(id)
	if err != nil {
		return nil, err
	}
	ext := info.New()
	if len(bytes.TrimSpace(config)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(config))
		dec.DisallowUnknownFields()
		if err := dec.Decode(ext); err != nil {
			return nil, fmt.Errorf("%s: decode config: %w", id, err)
		}
	}
	if p, ok := ext.(Provisioner); ok {
		if err := p.Provision(ctx); err != nil {
			return nil, fmt.Errorf("%s: provision: %w", id, err)
		}
	}
	if v, ok := ext.(Validator); ok {
		if err := v.Validate(); err != nil {
			if c, ok := ext.(CleanerUpper); ok {
				err = errors.Join(err, c.Cleanup())
			}
			return nil, fmt.Errorf("%s: validate: %w", id, err)
		}
	}
	return ext, nil
}
