package scenarios

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGeneratedSchema keeps scenario.schema.json in step with the types;
// go generate (or go test -update) rewrites it.
func TestGeneratedSchema(t *testing.T) {
	b, err := Schema()
	require.NoError(t, err)
	golden(t, "scenario.schema.json", b)
}

// TestGeneratedReference keeps docs/scenarios.md in step with the types
// and the shipped examples.
func TestGeneratedReference(t *testing.T) {
	examples := map[string]string{}
	files, err := filepath.Glob("examples/*.yaml")
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		examples[filepath.Base(f)] = string(b)
	}
	b, err := reference(examples)
	require.NoError(t, err)
	golden(t, filepath.Join("..", "docs", "scenarios.md"), b)
}

// TestSchemaIsClosed walks the schema: every object that lists properties
// forbids others, so editors flag what the loader rejects.
func TestSchemaIsClosed(t *testing.T) {
	b, err := Schema()
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	assert.Equal(t, "https://json-schema.org/draft/2020-12/schema", doc["$schema"])
	objects := 0
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["properties"]; ok {
				objects++
				assert.Equal(t, false, v["additionalProperties"], "%s is open", path)
			}
			for k, c := range v {
				walk(path+"/"+k, c)
			}
		case []any:
			for _, c := range v {
				walk(path+"/[]", c)
			}
		}
	}
	walk("#", doc)
	assert.GreaterOrEqual(t, objects, 10)
}

// TestSchemaCoversEveryField checks that each YAML field of each type is a
// property of the schema and is mentioned in the reference.
func TestSchemaCoversEveryField(t *testing.T) {
	b, err := Schema()
	require.NoError(t, err)
	var doc struct {
		Properties map[string]any            `json:"properties"`
		Defs       map[string]map[string]any `json:"$defs"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	ref, err := reference(nil)
	require.NoError(t, err)
	for _, typ := range []any{Scenario{}, Recording{}, Filters{}, Window{}, Target{}, Stack{}, Timing{}, RatePoint{}, Amplify{}, Credentials{}, ExtensionRef{}} {
		rt := reflect.TypeOf(typ)
		props := doc.Properties
		if rt != reflect.TypeOf(Scenario{}) {
			require.Contains(t, doc.Defs, rt.Name())
			props = doc.Defs[rt.Name()]["properties"].(map[string]any)
		}
		for _, f := range fields(rt) {
			assert.Contains(t, props, f.Name, "%s.%s", rt.Name(), f.Name)
			assert.NotEmpty(t, f.Desc, "%s.%s has no desc tag", rt.Name(), f.Name)
			assert.Contains(t, string(ref), f.Name+"` |", "%s.%s missing from the reference", rt.Name(), f.Name)
		}
	}
}

// TestDefaultTagsMatchSetDefaults keeps the documented defaults honest.
func TestDefaultTagsMatchSetDefaults(t *testing.T) {
	s := &Scenario{}
	s.SetDefaults()
	for _, c := range []struct {
		v   any
		typ reflect.Type
	}{{s.Target.Stack, reflect.TypeOf(Stack{})}, {s.Timing, reflect.TypeOf(Timing{})}, {s.Amplify, reflect.TypeOf(Amplify{})}, {s.Credentials, reflect.TypeOf(Credentials{})}} {
		v := reflect.Indirect(reflect.ValueOf(c.v))
		for i, f := range fields(c.typ) {
			if f.Default == "" {
				continue
			}
			got := strings.TrimSpace(stringOf(v.Field(i).Interface()))
			assert.Equal(t, f.Default, got, "%s.%s", c.typ.Name(), f.Name)
		}
	}
}

func stringOf(v any) string {
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}

// TestSchemaEnumsMatchValidate checks each enum value passes Validate and
// a value outside it does not.
func TestSchemaEnumsMatchValidate(t *testing.T) {
	for _, m := range TimingModes {
		tm := Timing{Mode: m, Speed: 1}
		if m == RateMode {
			tm.Rate = &Rate{Constant: Freq{Count: 1, Per: 1e9}}
		}
		assert.NoError(t, tm.Validate(), m)
	}
	f, _ := reflect.TypeOf(Timing{}).FieldByName("Mode")
	assert.Equal(t, "causal,recorded,asap,rate", f.Tag.Get("enum"))
	assert.Error(t, Timing{Mode: "fast", Speed: 1}.Validate())
}
