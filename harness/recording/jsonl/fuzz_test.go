package jsonl_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording/jsonl"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// FuzzDecoder feeds arbitrary input to the decoder. It must never panic, and
// whatever it accepts must survive encode → decode unchanged, which is the
// lossless promise seen from the other side. Seeds live in
// testdata/fuzz/FuzzDecoder and below.
func FuzzDecoder(f *testing.F) {
	f.Add(encodeFixture(f))
	f.Add([]byte(`{"kind":"exchange","id":1,"session":"s","start":"2026-01-01T00:00:00Z","duration_ms":2}`))
	f.Add([]byte("{\"kind\":\"header\",\"format_version\":1}\n\n{\"kind\":\"raw\",\"protobuf\":\"\"}\n"))
	f.Add([]byte(`{"kind":"exchange","id":1,"session":"","request":{"method":"GET","path":"/","headers":[["a"]],"body":{"data":"AA==","encoding":"base64","size":1}}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		dec := jsonl.NewDecoder(bytes.NewReader(in), jsonl.MaxLineSize(1<<16))
		hdr, err := dec.Header()
		if err != nil {
			return
		}
		var recs []*rprpb.Record
		for i := 0; i < 1000; i++ {
			rec, err := dec.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if !errors.Is(err, jsonl.ErrInvalid) {
					t.Fatalf("error outside ErrInvalid: %v", err)
				}
				continue
			}
			recs = append(recs, rec)
		}
		var buf bytes.Buffer
		enc := jsonl.NewEncoder(&buf)
		if err := enc.EncodeHeader(hdr); err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs {
			if err := enc.Encode(rec); err != nil {
				// Records decoded from protobuf bytes may hold strings that
				// protobuf itself refuses to marshal; nothing else may fail.
				return
			}
		}
		dec2 := jsonl.NewDecoder(&buf)
		hdr2, err := dec2.Header()
		if err != nil {
			t.Fatalf("re-decoding the header: %v\n%s", err, buf.String())
		}
		if !proto.Equal(hdr, hdr2) {
			t.Fatalf("header changed:\n%v\n%v", hdr, hdr2)
		}
		for i, want := range recs {
			got, err := dec2.Next()
			if err != nil {
				t.Fatalf("re-decoding record %d: %v\n%s", i, err, buf.String())
			}
			if !proto.Equal(want, got) {
				t.Fatalf("record %d changed:\n%v\n%v", i, want, got)
			}
		}
	})
}
