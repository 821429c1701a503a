package gor_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/importers"
	"github.com/reprise-dev/reprise/recorders/importers/gor"
	"github.com/reprise-dev/reprise/recorders/sink"
)

// FuzzGor feeds arbitrary captures to the importer: it must never panic,
// must fail only with a located input error, and what it writes must be
// well-formed. Seeds live in testdata/fuzz/FuzzGor.
func FuzzGor(f *testing.F) {
	if b, err := os.ReadFile("testdata/traffic.gor"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(record(1, "a", 1, "100", get("/x")) + record(2, "a", 2, "", ok("y"))))
	f.Fuzz(func(t *testing.T, data []byte) {
		calls := 0
		var capture sink.Capture
		newSink := func(context.Context, *rprpb.FileHeader) (sink.Sink, error) {
			calls++
			return &capture, nil
		}
		// Half the runs read through a pipe-like reader, half through a
		// seekable one, so both anchor paths are covered.
		var r io.Reader = bytes.NewReader(data)
		if len(data)%2 == 1 {
			r = onlyReader{r}
		}
		st, err := gor.Import(context.Background(), r, "fuzz.gor", newSink,
			importers.MaxEntryBytes(64<<10), importers.WithBodyCap(4<<10), importers.MaxPending(8),
			importers.SkipInvalid(len(data)%3 == 0))
		if err != nil && !errors.Is(err, importers.ErrInvalid) && !errors.Is(err, importers.ErrLimit) {
			t.Fatalf("unlocated error: %v", err)
		}
		if calls > 1 {
			t.Fatalf("newSink called %d times", calls)
		}
		recs := capture.Records()
		if int64(len(recs)) != st.Imported {
			t.Fatalf("%d records, stats say %d", len(recs), st.Imported)
		}
		seen := map[uint64]bool{}
		for _, rec := range recs {
			ex := rec.GetExchange()
			if seen[ex.GetId()] || ex.GetId() == 0 {
				t.Fatalf("id %d repeated or zero", ex.GetId())
			}
			seen[ex.GetId()] = true
			if ex.GetStartNs() > ex.GetFirstByteNs() || ex.GetFirstByteNs() > ex.GetEndNs() {
				t.Fatalf("times out of order: %d %d %d", ex.GetStartNs(), ex.GetFirstByteNs(), ex.GetEndNs())
			}
			if (ex.GetResponse() == nil) != (ex.GetError() == gor.UnpairedError) {
				t.Fatalf("response %v with error %q", ex.GetResponse() != nil, ex.GetError())
			}
			for _, b := range []*rprpb.Body{ex.GetRequest().GetBody(), ex.GetResponse().GetBody()} {
				if len(b.GetData()) > 4<<10 {
					t.Fatalf("body of %d bytes beyond the cap", len(b.GetData()))
				}
			}
		}
	})
}
