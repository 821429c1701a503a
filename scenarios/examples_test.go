package scenarios

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExamples loads every shipped scenario and checks that the recording
// it names is committed.
func TestExamples(t *testing.T) {
	for _, f := range mustGlob(t, "examples/*.yaml") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := Load(f)
			require.NoError(t, err)
			require.NoError(t, s.Validate())
			_, err = os.Stat(s.Recording.Path)
			assert.NoError(t, err, "the example's recording must exist")
		})
	}
}

func TestExampleTradingBurst(t *testing.T) {
	s, err := Load("examples/trading-burst.yaml")
	require.NoError(t, err)
	assert.Equal(t, "trading-burst", s.Name)
	assert.Equal(t, filepath.Join("..", "testdata", "recordings", "trading-burst.rpr"), s.Recording.Path)
	assert.Equal(t, &Stack{Driver: "local", Service: "gateway"}, s.Target.Stack)
	assert.Equal(t, Timing{Mode: Causal, Speed: 2}, s.Timing)
	assert.Equal(t, Amplify{Factor: 3, Collide: true, Offset: Duration(5 * time.Millisecond)}, s.Amplify)
	require.Len(t, s.Checks, 1)
	assert.Equal(t, "checkers.unique_sale", s.Checks[0].ID)
	buy := s.Recording.Filters.Routes[2]
	assert.True(t, buy.Match("POST", "/v1/items/7/buy", "/v1/items/{id}/buy"))
}

func TestExampleSmokeIsMinimal(t *testing.T) {
	s, err := Load("examples/smoke.yaml")
	require.NoError(t, err)
	want := &Scenario{Name: "smoke", Recording: Recording{Path: filepath.Join("..", "testdata", "recordings", "trading-burst.rpr")}}
	want.SetDefaults()
	s.src = nil
	assert.Equal(t, want, s)
}
