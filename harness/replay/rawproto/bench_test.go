package rawproto_test

import (
	"fmt"
	"testing"

	"github.com/reprise-dev/reprise/compose/proto/platform"
	"github.com/reprise-dev/reprise/harness/replay/rawproto"
)

// benchMessage is a ListItemsResponse of about 1 KiB: 30 nested Items.
func benchMessage(b *testing.B) []byte {
	m := &platform.ListItemsResponse{}
	for i := range 30 {
		m.Items = append(m.Items, &platform.Item{Id: int64(1000 + i), Name: fmt.Sprintf("item-name-%02d", i),
			Price: int64(10 * i), Owner: fmt.Sprintf("tester-%04d", i)})
	}
	data := marshal(b, m)
	if len(data) < 900 || len(data) > 1200 {
		b.Fatalf("bench message is %d bytes, want about 1 KiB", len(data))
	}
	return data
}

func BenchmarkReplace(b *testing.B) {
	data := benchMessage(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rawproto.Replace(data, "1.4", 10, "tester-0010", "tester-0010-clone-0001"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReplaceAll(b *testing.B) {
	data := benchMessage(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, n, err := rawproto.ReplaceAll(data, "tester-0010", "tester-0010-clone-0001"); err != nil || n != 1 {
			b.Fatal(n, err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	data := benchMessage(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := rawproto.Get(data, "1.4", 10); !ok {
			b.Fatal("missing")
		}
	}
}
