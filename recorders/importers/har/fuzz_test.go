package har_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/importers"
	"github.com/reprise-dev/reprise/recorders/importers/har"
	"github.com/reprise-dev/reprise/recorders/sink"
)

// FuzzHAR feeds arbitrary documents to the importer: it must never panic,
// must fail only with a located input error, and what it writes must be
// well-formed. Seeds live in testdata/fuzz/FuzzHAR.
func FuzzHAR(f *testing.F) {
	if b, err := os.ReadFile("testdata/chrome.har"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(entryHAR(okEntry)))
	f.Fuzz(func(t *testing.T, data []byte) {
		calls := 0
		var capture sink.Capture
		newSink := func(_ context.Context, hdr *rprpb.FileHeader) (sink.Sink, error) {
			calls++
			if hdr.GetClock().GetSource() != "imported" {
				t.Fatalf("clock source %q", hdr.GetClock().GetSource())
			}
			return &capture, nil
		}
		st, err := har.Import(context.Background(), bytes.NewReader(data), "fuzz.har", newSink,
			importers.MaxInputBytes(1<<20), importers.MaxEntryBytes(64<<10), importers.WithBodyCap(4<<10), importers.SkipInvalid(len(data)%2 == 0))
		if err != nil {
			if !errors.Is(err, importers.ErrInvalid) && !errors.Is(err, importers.ErrLimit) {
				t.Fatalf("unlocated error: %v", err)
			}
			if calls != 0 {
				t.Fatalf("newSink called for a rejected document")
			}
			return
		}
		if calls != 1 {
			t.Fatalf("newSink called %d times", calls)
		}
		recs := capture.Records()
		if int64(len(recs)) != st.Imported {
			t.Fatalf("%d records, stats say %d", len(recs), st.Imported)
		}
		for i, rec := range recs {
			ex := rec.GetExchange()
			if ex.GetId() != uint64(i+1) {
				t.Fatalf("record %d has id %d", i, ex.GetId())
			}
			if ex.GetStartNs() > ex.GetFirstByteNs() || ex.GetFirstByteNs() > ex.GetEndNs() {
				t.Fatalf("times out of order: %d %d %d", ex.GetStartNs(), ex.GetFirstByteNs(), ex.GetEndNs())
			}
			if i > 0 && recs[i-1].GetExchange().GetStartNs() > ex.GetStartNs() {
				t.Fatalf("not in start order")
			}
			if ex.GetRequest().GetMethod() == "" {
				t.Fatalf("exchange without method")
			}
			for _, b := range []*rprpb.Body{ex.GetRequest().GetBody(), ex.GetResponse().GetBody()} {
				if len(b.GetData()) > 4<<10 {
					t.Fatalf("body of %d bytes beyond the cap", len(b.GetData()))
				}
			}
		}
	})
}
