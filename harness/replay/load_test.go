package replay

import (
	"bytes"
	"context"
	"iter"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"unsafe"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

func records(exs []*rprpb.Exchange) iter.Seq2[*rprpb.Record, error] {
	return func(yield func(*rprpb.Record, error) bool) {
		for _, e := range exs {
			c := proto.Clone(e).(*rprpb.Exchange)
			if !yield(&rprpb.Record{Kind: &rprpb.Record_Exchange{Exchange: c}}, nil) {
				return
			}
		}
	}
}

func gzipped(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, err := w.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.String()
}

// TestLoadExchangesSlimsAndKeepsDiffs: LoadExchanges keeps whole only the
// responses that issue correlated values, and a replay from the slimmed
// exchanges gives the same results (diffs, substitutions) as one from the
// whole exchanges.
func TestLoadExchangesSlimsAndKeepsDiffs(t *testing.T) {
	const liveTok = "live-token-42abcdef"
	bodies := map[string]string{
		"/v1/login": `{"token":"` + liveTok + `","n":1}`,
		"/same":     `{"a":1,"b":[1,2]}`, // recorded identical
		"/values":   `{"b":[7],"a":9}`,   // same shape, other values
		"/shape":    `{"a":1}`,           // recorded {"a":1,"b":2}
		"/gz":       `{"x":"y"}`,         // recorded gzip of {"x":1}
		"/text":     `plain`,             // recorded JSON
	}
	target, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/me" && r.Header.Get("Authorization") != "Bearer "+liveTok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(bodies[r.URL.Path]))
	})
	exs := []ex{
		{id: 1, session: "u", conn: 1, method: "POST", path: "/v1/login", startMs: 0, endMs: 5,
			respBody: `{"token":"` + recTok + `","n":1}`},
		{id: 2, session: "u", conn: 1, path: "/v1/me", startMs: 10, endMs: 15,
			reqHeaders: [][2]string{{"Authorization", "Bearer " + recTok}}, respBody: `{}`},
		{id: 3, session: "v", conn: 2, path: "/same", startMs: 0, endMs: 1, respBody: bodies["/same"]},
		{id: 4, session: "v", conn: 2, path: "/values", startMs: 2, endMs: 3, respBody: `{"a":1,"b":[1,2]}`},
		{id: 5, session: "v", conn: 2, path: "/shape", startMs: 4, endMs: 5, respBody: `{"a":1,"b":2}`},
		{id: 6, session: "v", conn: 2, path: "/gz", startMs: 6, endMs: 7, respBody: gzipped(t, `{"x":1}`),
			respHeaders: [][2]string{{"Content-Encoding", "gzip"}, {"X-Big", "yes"}}},
		{id: 7, session: "v", conn: 2, path: "/text", startMs: 8, endMs: 9, respBody: `[1]`},
	}
	var pbs []*rprpb.Exchange
	whole := Exchanges{}
	for _, e := range exs {
		pbs = append(pbs, e.pb())
		whole[e.id] = e.pb()
	}
	p, err := plan.Build(pbs)
	require.NoError(t, err)
	require.NotEmpty(t, p.Correlations)
	slimmed, err := LoadExchanges(context.Background(), records(pbs), p)
	require.NoError(t, err)
	defer slimmed.Close()
	get := func(id uint64) (*rprpb.Exchange, *recBody) {
		got, err := slimmed.recorded(id)
		require.NoError(t, err)
		require.NotNil(t, got.sum, "the store keeps every body's summary")
		return got.ex, got.sum
	}
	login, _ := get(1)
	assert.Equal(t, whole[1].GetResponse().GetBody().GetData(), login.GetResponse().GetBody().GetData(),
		"the login's response issues the token: kept whole")
	for _, id := range []uint64{3, 4, 5, 6, 7} {
		e, rb := get(id)
		b := e.GetResponse().GetBody()
		assert.Nil(t, b.GetData(), "exchange %d: body bytes dropped", id)
		assert.Equal(t, int64(len(whole[id].GetResponse().GetBody().GetData())), b.GetSize(), "exchange %d: size kept", id)
		assert.Equal(t, summarizeBody(whole[id].GetResponse()), *rb, "exchange %d: summary kept", id)
	}
	gz, _ := get(6)
	assert.Nil(t, gz.GetResponse().GetHeaders())
	assert.Equal(t, len(exs), slimmed.Len())

	run := func(src Source) map[uint64]*rprpb.Result {
		s, err := p.Schedule(plan.Causal, plan.Speed(100))
		require.NoError(t, err)
		dir := t.TempDir()
		_, err = Run(context.Background(), s, src, target, OutDir(dir))
		require.NoError(t, err)
		return resultsByID(t, dir)
	}
	a, b := run(whole), run(slimmed)
	require.Len(t, b, len(exs))
	for id, ra := range a {
		rb := b[id]
		assert.True(t, proto.Equal(ra.GetDiff(), rb.GetDiff()), "exchange %d: diff %v vs %v", id, ra.GetDiff(), rb.GetDiff())
		assert.Equal(t, ra.GetStatus(), rb.GetStatus(), "exchange %d", id)
		assert.Equal(t, ra.GetSubstituted(), rb.GetSubstituted(), "exchange %d", id)
	}
	assert.Equal(t, int32(200), b[2].GetStatus(), "the live token was substituted from the kept response")
	shapeChanged := map[uint64]bool{3: false, 4: false, 5: true, 6: true, 7: true}
	for id, want := range shapeChanged {
		assert.Equal(t, want, b[id].GetDiff().GetJsonShapeChanged(), "exchange %d", id)
	}
}

// TestDiffResponseSameBytesSkipShapes: a live body with the recorded bytes
// is judged by its digest alone; another one by its shape.
func TestDiffResponseSameBytesSkipShapes(t *testing.T) {
	recorded := []byte(`{"a":1}`)
	e := ex{id: 1, respBody: string(recorded)}.pb()
	rb := summarizeBody(e.GetResponse())
	require.True(t, rb.decoded && rb.shapeOK)
	lying := rb
	lying.shape++ // a shape no live body has: only the fast path avoids a diff
	get := func() *recBody { return &lying }
	d := diffResponse(e, get, 200, liveResponse{body: recorded}, int64(len(recorded)))
	assert.False(t, d.GetJsonShapeChanged(), "same bytes: no shape compared")
	d = diffResponse(e, get, 200, liveResponse{body: []byte(`{"a":2}`)}, 7)
	assert.True(t, d.GetJsonShapeChanged(), "other bytes: shapes compared")
	truthful := func() *recBody { return &rb }
	d = diffResponse(e, truthful, 200, liveResponse{body: []byte(` {"a":2}`)}, 8)
	assert.False(t, d.GetJsonShapeChanged())
	assert.InDelta(t, 8.0/7, d.GetBodySizeRatio(), 1e-9)
}

func TestStoreRecordHeaderRoundTrip(t *testing.T) {
	for _, rb := range []recBody{{}, {decoded: true, size: 1 << 40, digest: ^uint64(0), shape: 42, shapeOK: true}, {decoded: true}} {
		b := appendRecHeader(nil, rb)
		require.Len(t, b, recHeaderLen)
		assert.Equal(t, rb, parseRecHeader(b))
	}
}

// TestLoadExchangesReportsMissing: a plan naming an exchange the stream
// lacks is an error naming it, and the store's file is released.
func TestLoadExchangesReportsMissing(t *testing.T) {
	pbs := []*rprpb.Exchange{ex{id: 1, session: "u", conn: 1, path: "/a", startMs: 0, endMs: 1}.pb(),
		ex{id: 2, session: "u", conn: 1, path: "/b", startMs: 2, endMs: 3}.pb()}
	p, err := plan.Build(pbs)
	require.NoError(t, err)
	_, err = LoadExchanges(context.Background(), records(pbs[:1]), p)
	require.ErrorIs(t, err, ErrMissingExchange)
	assert.Contains(t, err.Error(), "exchange 2")
}

// TestStoreAfterClose: reads after Close fail with an error, not a panic.
func TestStoreAfterClose(t *testing.T) {
	pbs := []*rprpb.Exchange{ex{id: 1, session: "u", conn: 1, method: "POST", path: "/a", startMs: 0, endMs: 1,
		reqHeaders: [][2]string{{"X-A", "b"}}, reqBody: `{"k":1}`}.pb()}
	p, err := plan.Build(pbs)
	require.NoError(t, err)
	s, err := LoadExchanges(context.Background(), records(pbs), p)
	require.NoError(t, err)
	got, err := s.recorded(1)
	require.NoError(t, err)
	assert.Equal(t, rebuild(pbs[0]), got.out, "the request is stored whole")
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
	_, err = s.recorded(1)
	require.ErrorIs(t, err, errStoreClosed)
	_, err = s.recorded(99)
	require.ErrorIs(t, err, ErrMissingExchange)
}

// TestStoreSpillDir: the store's file goes to SpillDir and is unlinked at
// once (the directory stays empty); a directory it cannot write to is an
// ErrStore failure, not a bad recording.
func TestStoreSpillDir(t *testing.T) {
	pbs := []*rprpb.Exchange{ex{id: 1, session: "u", conn: 1, path: "/a", startMs: 0, endMs: 1}.pb()}
	p, err := plan.Build(pbs)
	require.NoError(t, err)
	dir := t.TempDir()
	s, err := LoadExchanges(context.Background(), records(pbs), p, SpillDir(dir))
	require.NoError(t, err)
	defer s.Close()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "the spill file is unlinked as soon as it is made")
	_, err = s.recorded(1)
	require.NoError(t, err, "and still readable")

	_, err = LoadExchanges(context.Background(), records(pbs), p, SpillDir(filepath.Join(dir, "missing")))
	require.ErrorIs(t, err, ErrStore)
}

// TestStoreFindsConsecutiveAndSparseIDs: a store finds every planned
// exchange whether the ids are a consecutive run (kept as its first id
// only) or have gaps (kept sorted), and no id that was not planned: below,
// between or above them.
func TestStoreFindsConsecutiveAndSparseIDs(t *testing.T) {
	for name, ids := range map[string][]uint64{
		"consecutive": {7, 8, 9, 10},
		"sparse":      {7, 9, 30, 31},
		"one":         {7},
	} {
		t.Run(name, func(t *testing.T) {
			var pbs []*rprpb.Exchange
			for i, id := range ids {
				pbs = append(pbs, ex{id: id, session: "u", conn: 1, path: "/p/" + strconv.FormatUint(id, 10),
					startMs: int64(2 * i), endMs: int64(2*i + 1)}.pb())
			}
			p, err := plan.Build(pbs)
			require.NoError(t, err)
			s, err := LoadExchanges(context.Background(), records(pbs), p)
			require.NoError(t, err)
			defer s.Close()
			assert.Equal(t, len(ids), s.Len())
			for _, id := range ids {
				got, err := s.recorded(id)
				require.NoError(t, err, "exchange %d", id)
				assert.Equal(t, "/p/"+strconv.FormatUint(id, 10), got.out.path)
			}
			for _, id := range []uint64{0, ids[0] - 1, ids[len(ids)-1] + 1, 8, 29, 32, 1 << 40} {
				if slices.Contains(ids, id) {
					continue
				}
				_, err := s.recorded(id)
				assert.ErrorIs(t, err, ErrMissingExchange, "exchange %d was not planned", id)
			}
		})
	}
}

// TestStoreEntryOffsets: an entry holds offsets past 4 GiB in its 12
// bytes.
func TestStoreEntryOffsets(t *testing.T) {
	assert.Equal(t, uintptr(12), unsafe.Sizeof(storeEntry{}))
	for _, off := range []int64{0, 1, 1<<32 - 1, 1 << 32, 5<<32 + 12345, maxStoreFile} {
		e := storeEntry{offLo: uint32(off), offHi: uint16(off >> 32)}
		assert.Equal(t, off, e.off())
	}
}
