package scenarios

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"text/template"
)

//go:generate go test -run ^TestGenerated -update .

// SchemaID is the $id of the generated JSON Schema.
const SchemaID = "https://github.com/reprise-dev/reprise/scenarios/scenario.schema.json"

// durationPattern matches what time.ParseDuration accepts.
const durationPattern = `^[-+]?(0|([0-9]*(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+)$`

// field is one struct field as the schema and the reference see it.
type field struct {
	Name     string
	Desc     string
	Default  string
	Enum     []string
	Required bool
	Type     reflect.Type
}

// fields lists t's YAML-visible fields in declaration order.
func fields(t reflect.Type) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := tagName(f)
		if name == "" {
			continue
		}
		fi := field{Name: name, Desc: f.Tag.Get("desc"), Default: f.Tag.Get("default"), Required: f.Tag.Get("required") == "true", Type: f.Type}
		if e := f.Tag.Get("enum"); e != "" {
			fi.Enum = strings.Split(e, ",")
		}
		out = append(out, fi)
	}
	return out
}

// customSchema is implemented by the scalar types whose YAML form is their
// own syntax rather than their Go shape.
type customSchema interface {
	jsonSchema(g *schemaGen) map[string]any
	docType() string
}

var customType = reflect.TypeOf((*customSchema)(nil)).Elem()

func (Duration) jsonSchema(*schemaGen) map[string]any {
	return map[string]any{"type": "string", "pattern": durationPattern}
}
func (Duration) docType() string { return "duration" }

func (Time) jsonSchema(*schemaGen) map[string]any {
	return map[string]any{"type": "string", "format": "date-time"}
}
func (Time) docType() string { return "RFC 3339 time" }

func (Instant) jsonSchema(*schemaGen) map[string]any {
	return map[string]any{"anyOf": []any{
		map[string]any{"type": "string", "format": "date-time"},
		map[string]any{"type": "string", "pattern": durationPattern},
	}}
}
func (Instant) docType() string { return "RFC 3339 time or duration" }

func (Shard) jsonSchema(*schemaGen) map[string]any {
	return map[string]any{"type": "string", "pattern": `^[0-9]+/[0-9]+$`}
}
func (Shard) docType() string { return `"i/N"` }

func (Freq) jsonSchema(*schemaGen) map[string]any {
	return map[string]any{"oneOf": []any{
		map[string]any{"type": "number", "exclusiveMinimum": 0},
		map[string]any{"type": "string", "pattern": `^[0-9.eE+-]+(/([0-9.]+)?(ns|us|µs|ms|s|m|h)+)?$`},
	}}
}
func (Freq) docType() string { return `rate ("200/s")` }

func (Rate) jsonSchema(g *schemaGen) map[string]any {
	return map[string]any{"oneOf": []any{
		Freq{}.jsonSchema(g),
		map[string]any{"type": "array", "minItems": 1, "items": g.ref(reflect.TypeOf(RatePoint{}))},
	}}
}
func (Rate) docType() string { return "rate or list of points" }

type schemaGen struct {
	defs map[string]any
}

// Schema returns the JSON Schema (draft 2020-12) of a scenario file,
// generated from the Go types. Every object is closed
// (additionalProperties: false) except extension configs, so an editor flags
// the same unknown fields the loader rejects.
func Schema() ([]byte, error) {
	g := &schemaGen{defs: map[string]any{}}
	root := g.object(reflect.TypeOf(Scenario{}))
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = SchemaID
	root["title"] = "Reprise scenario"
	root["description"] = "A declarative replay: the recording, the target, timing, amplification, credentials, observers, checks and verdict rules. Reference: docs/scenarios.md."
	root["$defs"] = g.defs
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("scenarios: schema: %w", err)
	}
	return b.Bytes(), nil
}

func (g *schemaGen) ref(t reflect.Type) map[string]any {
	if _, ok := g.defs[t.Name()]; !ok {
		g.defs[t.Name()] = nil // reserve first: types may refer to themselves
		g.defs[t.Name()] = g.object(t)
	}
	return map[string]any{"$ref": "#/$defs/" + t.Name()}
}

func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range fields(t) {
		p := g.typeSchema(f.Type)
		if f.Desc != "" {
			p["description"] = f.Desc
		}
		if len(f.Enum) > 0 {
			p["enum"] = f.Enum
		}
		if f.Default != "" {
			p["default"] = defaultValue(f)
		}
		if f.Required {
			required = append(required, f.Name)
		}
		props[f.Name] = p
	}
	o := map[string]any{"type": "object", "additionalProperties": false, "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func defaultValue(f field) any {
	switch f.Type.Kind() {
	case reflect.Int:
		v, _ := strconv.Atoi(f.Default)
		return v
	case reflect.Float64:
		v, _ := strconv.ParseFloat(f.Default, 64)
		return v
	}
	return f.Default
}

func (g *schemaGen) typeSchema(t reflect.Type) map[string]any {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Implements(customType) {
		return reflect.Zero(t).Interface().(customSchema).jsonSchema(g)
	}
	switch t.Kind() {
	case reflect.Struct:
		return g.ref(t)
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.typeSchema(t.Elem())}
	case reflect.Map:
		if t.Elem().Kind() == reflect.Interface {
			return map[string]any{"type": "object"}
		}
		return map[string]any{"type": "object", "additionalProperties": g.typeSchema(t.Elem())}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	}
	return map[string]any{"type": "string"}
}

//go:embed reference.md.tmpl
var referenceTemplate string

// row is one line of the field reference.
type row struct {
	Path, Type, Default, Desc string
}

// reference returns docs/scenarios.md: the prose of reference.md.tmpl with a
// table of every field, generated from the same tags as the schema.
func reference(examples map[string]string) ([]byte, error) {
	var rows []row
	addRows(&rows, "", reflect.TypeOf(Scenario{}))
	tmpl, err := template.New("reference").Parse(referenceTemplate)
	if err != nil {
		return nil, fmt.Errorf("scenarios: reference template: %w", err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, map[string]any{"Rows": rows, "Examples": examples}); err != nil {
		return nil, fmt.Errorf("scenarios: reference: %w", err)
	}
	return b.Bytes(), nil
}

func addRows(rows *[]row, prefix string, t reflect.Type) {
	for _, f := range fields(t) {
		p := joinPath(prefix, f.Name)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		typ := docType(ft)
		if len(f.Enum) > 0 {
			typ = "`" + strings.Join(f.Enum, "` \\| `") + "`"
		}
		if f.Required {
			typ += ", required"
		}
		def := f.Default
		if def != "" {
			def = "`" + def + "`"
		}
		*rows = append(*rows, row{Path: "`" + p + "`", Type: typ, Default: def, Desc: strings.ReplaceAll(f.Desc, "|", `\|`)})
		switch {
		case ft.Implements(customType):
			if ft == rateType {
				addRows(rows, p+"[]", reflect.TypeOf(RatePoint{}))
			}
		case ft.Kind() == reflect.Struct:
			addRows(rows, p, ft)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && !ft.Elem().Implements(customType):
			addRows(rows, p+"[]", ft.Elem())
		}
	}
}

func docType(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Implements(customType) {
		return reflect.Zero(t).Interface().(customSchema).docType()
	}
	switch t.Kind() {
	case reflect.Struct:
		return "mapping"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Struct && !t.Elem().Implements(customType) {
			return "list of mappings"
		}
		return "list of " + docType(t.Elem())
	case reflect.Map:
		if t.Elem().Kind() == reflect.Interface {
			return "mapping"
		}
		return "mapping of " + docType(t.Elem())
	case reflect.Bool:
		return "boolean"
	case reflect.Int:
		return "integer"
	case reflect.Float64:
		return "number"
	}
	return "string"
}
