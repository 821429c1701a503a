package plan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

var update = flag.Bool("update", false, "rewrite golden files")

// loadPlan plans a committed recording.
func loadPlan(t testing.TB, name string, opts ...plan.Option) *plan.Plan {
	t.Helper()
	r, err := recording.Open(filepath.Join("..", "..", "..", "testdata", "recordings", name))
	require.NoError(t, err)
	defer r.Close()
	p, err := plan.BuildSeq(context.Background(), r.All(), opts...)
	require.NoError(t, err)
	return p
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create %s", path)
	assert.Equal(t, string(want), string(got))
}

func TestDryRunGolden(t *testing.T) {
	p := loadPlan(t, "long-mixed.rpr")
	var buf bytes.Buffer
	require.NoError(t, p.WriteDryRun(&buf))
	golden(t, "long-mixed.dryrun.txt", buf.Bytes())

	// Planning is deterministic: a second build writes the same bytes.
	var again bytes.Buffer
	require.NoError(t, loadPlan(t, "long-mixed.rpr").WriteDryRun(&again))
	assert.Equal(t, buf.String(), again.String())
}

func TestDryRunJSONListsEverything(t *testing.T) {
	p := loadPlan(t, "long-mixed.rpr")
	var buf bytes.Buffer
	require.NoError(t, p.WriteDryRunJSON(&buf))
	var d plan.DryRun
	require.NoError(t, json.Unmarshal(buf.Bytes(), &d))
	st := p.Stats()
	assert.Len(t, d.Requests, st.Requests)
	assert.Len(t, d.Correlations, st.Correlations)
	assert.Len(t, d.Sessions, st.Sessions)
	preds := 0
	for _, r := range d.Requests {
		preds += len(r.Preds)
	}
	assert.Equal(t, st.Edges.Total, preds)
	assert.Contains(t, buf.String(), `"kind": "order"`)
}

// TestDryRunJSONStreamedEqualsDocument: the streamed JSON is byte for byte
// the DryRun document as encoding/json indents it, for a correlated plan,
// an amplified one and an empty one.
func TestDryRunJSONStreamedEqualsDocument(t *testing.T) {
	p := loadPlan(t, "long-mixed.rpr")
	amp, err := p.Amplify(2, plan.CloneOffset(time.Millisecond))
	require.NoError(t, err)
	empty, err := plan.Build(nil)
	require.NoError(t, err)
	for name, pl := range map[string]*plan.Plan{"long-mixed": p, "amplified": amp, "empty": empty} {
		s, err := pl.Schedule(plan.Causal)
		require.NoError(t, err)
		var want, got bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		require.NoError(t, enc.Encode(s.DryRun()), name)
		require.NoError(t, s.WriteDryRunJSON(&got), name)
		assert.Equal(t, want.String(), got.String(), name)
	}
}

// TestDryRunJSONCoversDryRun fails when DryRun gains a field that
// WriteDryRunJSON does not write.
func TestDryRunJSONCoversDryRun(t *testing.T) {
	ty := reflect.TypeFor[plan.DryRun]()
	var fields []string
	for i := range ty.NumField() {
		fields = append(fields, ty.Field(i).Name)
	}
	assert.Equal(t, []string{"Stats", "Amplification", "Sessions", "Requests", "Correlations"}, fields)
}
