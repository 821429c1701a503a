package replay

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// TestPlanJSONStreamedEqualsDryRun: the streamed plan.json is byte for
// byte the plan package's dry-run document, for a plan with correlations
// and predecessors, an amplified one (rewrites, amplification) and a
// single request.
func TestPlanJSONStreamedEqualsDryRun(t *testing.T) {
	withCorr, _ := fixture(t, plan.Causal,
		ex{id: 1, session: "u", conn: 1, method: "POST", path: "/v1/login", startMs: 0, endMs: 5,
			respBody: `{"token":"` + recTok + `","n":1}`},
		ex{id: 2, session: "u", conn: 1, path: "/v1/me", startMs: 10, endMs: 15,
			reqHeaders: [][2]string{{"Authorization", "Bearer " + recTok}}},
		ex{id: 3, session: "w<&>", conn: 2, path: "/x", startMs: 3, endMs: 4})
	require.NotEmpty(t, withCorr.Plan().Correlations)
	single, _ := fixture(t, plan.ASAP, ex{id: 1, session: "a", method: "POST", path: "/v1/login", startMs: 0, endMs: 1,
		reqHeaders: [][2]string{{"Content-Type", "application/json"}}, reqBody: `{"user":"ana"}`})
	amp, err := single.Plan().Amplify(3)
	require.NoError(t, err)
	amplified, err := amp.Schedule(plan.ASAP)
	require.NoError(t, err)
	for name, s := range map[string]*plan.Schedule{"correlated": withCorr, "single": single, "amplified": amplified} {
		var want, got bytes.Buffer
		require.NoError(t, s.WriteDryRunJSON(&want))
		require.NoError(t, writePlanJSON(&got, s))
		assert.Equal(t, want.String(), got.String(), name)
	}
}

// TestPlanJSONCoversDryRun fails when plan.DryRun gains a field that
// writePlanJSON does not write.
func TestPlanJSONCoversDryRun(t *testing.T) {
	ty := reflect.TypeFor[plan.DryRun]()
	var fields []string
	for i := range ty.NumField() {
		fields = append(fields, ty.Field(i).Name)
	}
	assert.Equal(t, []string{"Stats", "Amplification", "Sessions", "Requests", "Correlations"}, fields)
}
