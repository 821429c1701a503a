// Package importerstest runs an importer into an in-memory sink for tests,
// so that the HAR and GoReplay tests share one harness.
package importerstest

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/importers"
	"github.com/reprise-dev/reprise/recorders/redact"
	"github.com/reprise-dev/reprise/recorders/sink"
)

// Func is the shape every importer's Import has.
type Func func(ctx context.Context, r io.Reader, name string, newSink importers.NewSinkFunc, opts ...importers.Option) (importers.Stats, error)

// Result is what an import wrote.
type Result struct {
	Header    *rprpb.FileHeader
	Records   []*rprpb.Record
	Exchanges []*rprpb.Exchange
	Stats     importers.Stats
	// SinkCalls counts calls of the NewSinkFunc; importers make exactly one.
	SinkCalls int
}

// Run imports r with imp into a capture sink.
func Run(t testing.TB, imp Func, r io.Reader, name string, opts ...importers.Option) (*Result, error) {
	t.Helper()
	res := &Result{}
	var capture sink.Capture
	newSink := func(_ context.Context, hdr *rprpb.FileHeader) (sink.Sink, error) {
		res.SinkCalls++
		res.Header = hdr
		return &capture, nil
	}
	st, err := imp(context.Background(), r, name, newSink, opts...)
	res.Stats = st
	res.Records = capture.Records()
	for _, rec := range res.Records {
		res.Exchanges = append(res.Exchanges, rec.GetExchange())
	}
	return res, err
}

// FixedRedactor returns a redactor with a fixed key, so that placeholders
// are the same from run to run.
func FixedRedactor(t testing.TB, key string) *redact.Redactor {
	t.Helper()
	p := redact.DefaultPolicy()
	p.Key = []byte(key)
	r, err := redact.New(p)
	require.NoError(t, err)
	return r
}
