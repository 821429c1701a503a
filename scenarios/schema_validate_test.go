package scenarios

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// compiledSchema compiles the generated schema with a real draft 2020-12
// validator, the kind an editor runs.
func compiledSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	b, err := Schema()
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource(SchemaID, doc))
	s, err := c.Compile(SchemaID)
	require.NoError(t, err)
	return s
}

func yamlInstance(t *testing.T, file string) any {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	var v any
	require.NoError(t, yaml.Unmarshal(data, &v))
	j, err := json.Marshal(v)
	require.NoError(t, err)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	require.NoError(t, err)
	return inst
}

// TestSchemaAgreesWithLoader: what the loader accepts the schema accepts,
// and the unknown fields and wrong kinds the loader rejects the schema
// rejects too. (Cross-field rules, such as url and stack being exclusive,
// are the loader's alone.)
func TestSchemaAgreesWithLoader(t *testing.T) {
	sch := compiledSchema(t)
	valid := append(fixtures(t, "valid"), mustGlob(t, "examples/*.yaml")...)
	for _, f := range valid {
		assert.NoError(t, sch.Validate(yamlInstance(t, f)), f)
	}
	for _, name := range []string{"unknown-fields", "wrong-types", "rate-curve", "target-bad", "timing-mode"} {
		f := filepath.Join("testdata", "invalid", name+".yaml")
		err := sch.Validate(yamlInstance(t, f))
		assert.Error(t, err, f)
	}
	// One unknown field, alone, is enough for the schema to object.
	for _, doc := range []string{
		"recording: {path: a.rpr}\ntiming: {sped: 2}\n",
		"recording: {path: a.rpr, filters: {window: {form: 1s}}}\n",
		"recording: {path: a.rpr}\ntarget: {stack: {drvier: local}}\n",
		"recording: {path: a.rpr}\nchecks: [{id: checkers.x, cfg: {}}]\n",
	} {
		tmp := filepath.Join(t.TempDir(), "s.yaml")
		require.NoError(t, os.WriteFile(tmp, []byte(doc), 0o644))
		_, loadErr := Load(tmp)
		require.ErrorIs(t, loadErr, ErrUnknownField, doc)
		err := sch.Validate(yamlInstance(t, tmp))
		require.Error(t, err, doc)
		assert.True(t, strings.Contains(err.Error(), "additional properties"), err.Error())
	}
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	require.NoError(t, err)
	require.NotEmpty(t, m)
	return m
}
