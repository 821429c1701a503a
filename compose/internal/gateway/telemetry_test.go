package gateway

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const validNAR = `{"trace_id":"t-1","backend":"CUDA","model":"npc-dialog-7b","hardware":{"gpu":"RTX 3060","vram_mb":12288},` +
	`"spans":[{"name":"prefill","start_ms":0,"duration_ms":12.5},{"name":"decode","start_ms":12.5,"duration_ms":80}]}`

// padded is a valid trace of exactly n bytes: a free-form field absorbs the
// difference, as a client's extra attributes would.
func padded(t *testing.T, n int) []byte {
	t.Helper()
	head := `{"backend":"vulkan","spans":[],"notes":"`
	tail := `"}`
	require.Greater(t, n, len(head)+len(tail))
	return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
}

func TestNARTelemetry(t *testing.T) {
	st := startStack(t, defaultStack())
	tok := st.login(t, "ann")

	code, body := st.do(t, "POST", "/v1/telemetry/nar", tok, strings.NewReader(validNAR))
	require.Equal(t, http.StatusAccepted, code, body)
	assert.JSONEq(t, `{"accepted":true,"trace_id":"t-1","spans":2}`, body)

	exact := padded(t, MaxNARBytes)
	require.Len(t, exact, MaxNARBytes)
	code, body = st.do(t, "POST", "/v1/telemetry/nar", tok, bytes.NewReader(exact))
	assert.Equal(t, http.StatusAccepted, code, "1 MiB exactly is allowed: %.200s", body)

	code, body = st.do(t, "POST", "/v1/telemetry/nar", tok, bytes.NewReader(padded(t, MaxNARBytes+1)))
	assert.Equal(t, http.StatusRequestEntityTooLarge, code, body)
	assert.Equal(t, "TOO_LARGE", decode[errorBody](t, body).Reason)

	code, body = st.do(t, "POST", "/v1/telemetry/nar", tok, strings.NewReader(`{"backend":"cpu","spans":[{"name":"x","duration_ms":-1}]}`))
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, body, "spans[0].duration_ms")
	code, _ = st.do(t, "POST", "/v1/telemetry/nar", tok, strings.NewReader(`{"backend":"quantum"}`))
	assert.Equal(t, http.StatusAccepted, code, "an unknown backend is accepted, counted as other")

	_, metrics := st.do(t, "GET", "/metrics", "", nil)
	assert.Contains(t, metrics, `gateway_nar_traces_total{backend="cuda"} 1`)
	assert.Contains(t, metrics, `gateway_nar_traces_total{backend="vulkan"} 1`)
	assert.Contains(t, metrics, `gateway_nar_traces_total{backend="other"} 1`)
	assert.Contains(t, metrics, `gateway_nar_rejected_total{reason="too_large"} 1`)
	assert.Contains(t, metrics, `gateway_nar_rejected_total{reason="invalid"} 1`)
	assert.Contains(t, st.logs.String(), `"msg":"nar trace"`)
	assert.Contains(t, st.logs.String(), `"model":"npc-dialog-7b"`)
}

func TestDecodeNARNamesTheField(t *testing.T) {
	for in, want := range map[string]string{
		`[]`:                               "want a JSON object",
		`null`:                             "want a JSON object",
		`{}`:                               "backend:",
		`{"backend":"cpu"} {}`:             "trailing data",
		`{"backend":7}`:                    "backend",
		`{"backend":"cpu","spans":[{}]}`:   "spans[0].name",
		`{"backend":"cpu","spans":"many"}`: "spans",
		`{"backend":"cpu","spans":[{"name":"a","start_ms":-2}]}`:                   "spans[0].start_ms",
		`{"backend":"cpu","model":"` + strings.Repeat("m", maxNARTextLen+1) + `"}`: "model:",
	} {
		_, err := decodeNAR([]byte(in))
		assert.ErrorIs(t, err, ErrNARInvalid, in)
		assert.ErrorContains(t, err, want, in)
	}
	tr, err := decodeNAR([]byte(validNAR))
	require.NoError(t, err)
	assert.Len(t, tr.Spans, 2)
	assert.Equal(t, "cuda", backendLabel(tr.Backend))
}

func FuzzDecodeNAR(f *testing.F) {
	for _, seed := range []string{validNAR, `{}`, `{"backend":"cpu","spans":[{"name":"a","duration_ms":1e308}]}`, `[`, `{"backend":"metal","x":{"y":[1,2,{}]}}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tr, err := decodeNAR(body)
		if err != nil {
			require.ErrorIs(t, err, ErrNARInvalid)
			return
		}
		require.NotEmpty(t, tr.Backend)
		label := backendLabel(tr.Backend)
		require.True(t, label == "other" || narBackends[label], fmt.Sprintf("label %q", label))
		for _, s := range tr.Spans {
			require.GreaterOrEqual(t, s.DurationMs, 0.0)
		}
	})
}
