package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
)

const (
	maxNARSpans   = 10_000
	maxNARTextLen = 256
)

// narBackends bounds the backend label's cardinality; anything else is
// counted as "other".
var narBackends = map[string]bool{
	"cpu": true, "cuda": true, "metal": true, "vulkan": true, "directml": true,
	"rocm": true, "webgpu": true, "npu": true, "coreml": true, "openvino": true,
}

// narTrace is what a game client posts about one on-device (NAR) inference:
// which backend and model ran, on what hardware, and its spans. Unknown
// fields are allowed so that newer clients keep posting.
type narTrace struct {
	TraceID  string          `json:"trace_id"`
	Backend  string          `json:"backend"`
	Model    string          `json:"model"`
	Hardware json.RawMessage `json:"hardware"`
	Spans    []narSpan       `json:"spans"`
}

type narSpan struct {
	Name       string  `json:"name"`
	StartMs    float64 `json:"start_ms"`
	DurationMs float64 `json:"duration_ms"`
}

// ErrNARInvalid is wrapped by every decodeNAR error.
var ErrNARInvalid = errors.New("invalid NAR trace")

// decodeNAR parses and validates one trace; errors name the field.
func decodeNAR(body []byte) (*narTrace, error) {
	if !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		return nil, fmt.Errorf("%w: want a JSON object", ErrNARInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var t narTrace
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNARInvalid, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: trailing data after the JSON object", ErrNARInvalid)
	}
	switch {
	case t.Backend == "" || len(t.Backend) > maxNARTextLen:
		return nil, fmt.Errorf("%w: backend: want 1..%d bytes", ErrNARInvalid, maxNARTextLen)
	case len(t.TraceID) > maxNARTextLen:
		return nil, fmt.Errorf("%w: trace_id: longer than %d bytes", ErrNARInvalid, maxNARTextLen)
	case len(t.Model) > maxNARTextLen:
		return nil, fmt.Errorf("%w: model: longer than %d bytes", ErrNARInvalid, maxNARTextLen)
	case len(t.Spans) > maxNARSpans:
		return nil, fmt.Errorf("%w: spans: more than %d", ErrNARInvalid, maxNARSpans)
	}
	for i, s := range t.Spans {
		switch {
		case s.Name == "" || len(s.Name) > maxNARTextLen:
			return nil, fmt.Errorf("%w: spans[%d].name: want 1..%d bytes", ErrNARInvalid, i, maxNARTextLen)
		case s.DurationMs < 0 || math.IsInf(s.DurationMs, 0):
			return nil, fmt.Errorf("%w: spans[%d].duration_ms: want a finite number >= 0", ErrNARInvalid, i)
		case s.StartMs < 0 || math.IsInf(s.StartMs, 0):
			return nil, fmt.Errorf("%w: spans[%d].start_ms: want a finite number >= 0", ErrNARInvalid, i)
		}
	}
	return &t, nil
}

func backendLabel(b string) string {
	b = strings.ToLower(b)
	if narBackends[b] {
		return b
	}
	return "other"
}

type narAccepted struct {
	Accepted bool   `json:"accepted"`
	TraceID  string `json:"trace_id,omitempty"`
	Spans    int    `json:"spans"`
}

// narTrace counts and logs a trace; analysis is a later issue's.
func (g *Gateway) narTrace(w http.ResponseWriter, r *http.Request, player string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxNARBytes))
	if err != nil {
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			g.narRejected.WithLabelValues("too_large").Inc()
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("NAR trace: over %d bytes", MaxNARBytes), "TOO_LARGE")
			return
		}
		writeError(w, http.StatusBadRequest, "NAR trace: "+err.Error(), "INVALID_ARGUMENT")
		return
	}
	t, err := decodeNAR(body)
	if err != nil {
		g.narRejected.WithLabelValues("invalid").Inc()
		writeError(w, http.StatusBadRequest, err.Error(), "INVALID_ARGUMENT")
		return
	}
	label := backendLabel(t.Backend)
	g.narTraces.WithLabelValues(label).Inc()
	var total float64
	for _, s := range t.Spans {
		total += s.DurationMs
	}
	g.log.Info("nar trace", "player", player, "trace_id", t.TraceID, "backend", label, "model", t.Model,
		"spans", len(t.Spans), "duration_ms", total, "bytes", len(body))
	writeJSON(w, http.StatusAccepted, narAccepted{Accepted: true, TraceID: t.TraceID, Spans: len(t.Spans)})
}
