package inspect_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/inspect"
	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// FuzzRead feeds arbitrary bytes through the reader, the accumulator and
// both renderers: no panic, no error from rendering, bounded work.
func FuzzRead(f *testing.F) {
	valid := writeFile(f, 20)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := recording.NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		defer r.Close()
		s := inspect.New(inspect.Header(r.Header()))
		require.NoError(t, s.Read(context.Background(), r))
		render(t, s.Report())
	})
}

// FuzzAdd feeds arbitrary record contents (extreme times, odd paths,
// hostile strings) to Add.
func FuzzAdd(f *testing.F) {
	seeds := []*rprpb.Exchange{
		httpEx(1, "GET", "/v1/items/123", 200, 0, 10),
		{Id: 2, StartNs: -1 << 62, EndNs: 1 << 62, Request: &rprpb.Request{Path: "/a/1/b/2"}},
		{Id: 3, StartNs: 1<<63 - 1, EndNs: -1 << 63, Error: "x\ty\nz"},
		{Id: 4, Protocol: rprpb.Protocol_PROTOCOL_GRPC, Grpc: &rprpb.Grpc{FullMethod: "/p.S/M", StatusCode: 99}},
	}
	for _, e := range seeds {
		b, err := proto.Marshal(rec(e))
		require.NoError(f, err)
		f.Add(b, b)
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		s := inspect.New(inspect.Top(2), inspect.MaxPoints(7))
		for _, data := range [][]byte{a, b, a} {
			var r rprpb.Record
			if proto.Unmarshal(data, &r) == nil {
				s.Add(&r)
			}
		}
		rep := s.Report()
		require.LessOrEqual(t, len(rep.Rate.Points), 7)
		require.LessOrEqual(t, len(rep.Routes), 2)
		render(t, rep)
	})
}

func render(t *testing.T, r inspect.Report) {
	require.NoError(t, inspect.WriteText(io.Discard, &r))
	require.NoError(t, inspect.WriteJSON(io.Discard, &r))
}
