package results

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/mapping"
	"github.com/DataDog/sketches-go/ddsketch/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay"
)

func smallSketches() *Sketches {
	sk := New()
	for i, ms := range []int64{1, 2, 3, 5, 8, 13, 21} {
		route := "/v1/items"
		if i%3 == 0 {
			route = "/v1/login"
		}
		sk.Add(&rprpb.Result{Route: route, IntendedNs: 0, SentNs: int64(100 * time.Microsecond), DoneNs: ms * int64(time.Millisecond)})
	}
	return sk
}

func encode(t *testing.T, sk *Sketches) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, sk.Encode(&b))
	return b.Bytes()
}

func TestSketchesFileGolden(t *testing.T) {
	golden(t, "sketches.golden.json", encode(t, smallSketches()))
}

func TestSketchesFileRoundTrip(t *testing.T) {
	sk := New()
	for _, r := range genResults(3, 20, 30) {
		sk.Add(r)
	}
	path := filepath.Join(t.TempDir(), SketchesFile)
	require.NoError(t, sk.WriteFile(path))
	back, err := ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, encode(t, sk), encode(t, back), "decode(encode(s)) encodes identically")
	assert.Equal(t, sk.Overall().Latency.Quantiles(), back.Overall().Latency.Quantiles())
	for _, name := range sk.Routes() {
		assert.Equal(t, sk.Route(name).Service.Quantiles(), back.Route(name).Service.Quantiles(), name)
	}
	// Decoded sketches still merge.
	require.NoError(t, back.Merge(sk))
	assert.Equal(t, 2*sk.Overall().Count(), back.Overall().Count())
}

// A sketch of the wrong mapping is what another tool (or another accuracy)
// would write: it must be refused, not merged into nonsense.
func foreignSketch(t *testing.T) []byte {
	m, err := mapping.NewLogarithmicMapping(0.02)
	require.NoError(t, err)
	s := ddsketch.NewDDSketchFromStoreProvider(m, store.DefaultProvider)
	require.NoError(t, s.Add(1))
	b, err := proto.Marshal(s.ToProto())
	require.NoError(t, err)
	return b
}

func TestDecodeRefusesBadFiles(t *testing.T) {
	good := encode(t, smallSketches())
	edit := func(f func(m map[string]any)) string {
		var m map[string]any
		require.NoError(t, json.Unmarshal(good, &m))
		f(m)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return string(b)
	}
	overall := func(m map[string]any) map[string]any { return m["overall"].(map[string]any) }
	latency := func(m map[string]any) map[string]any { return overall(m)["latency"].(map[string]any) }
	cases := map[string]struct{ in, want string }{
		"not json":      {"{", "unexpected end"},
		"format":        {edit(func(m map[string]any) { m["format"] = "other/v9" }), `format "other/v9"`},
		"unit":          {edit(func(m map[string]any) { m["unit"] = "s" }), `unit "s"`},
		"accuracy":      {edit(func(m map[string]any) { m["relative_accuracy"] = 0.05 }), "relative_accuracy 0.05"},
		"count":         {edit(func(m map[string]any) { latency(m)["count"] = 99 }), "overall.latency: count 99, but the sketch holds 7"},
		"min > max":     {edit(func(m map[string]any) { latency(m)["min"] = 1e9 }), "min 1e+09 > max"},
		"base64":        {edit(func(m map[string]any) { latency(m)["ddsketch"] = "!!" }), "illegal base64"},
		"proto":         {edit(func(m map[string]any) { latency(m)["ddsketch"] = []byte{0xff, 0xff} }), "overall.latency: ddsketch"},
		"mapping":       {edit(func(m map[string]any) { latency(m)["ddsketch"] = foreignSketch(t) }), "is not the 0.01-accuracy logarithmic one"},
		"routes vs all": {edit(func(m map[string]any) { delete(m["routes"].(map[string]any), "/v1/login") }), "routes hold 4 samples, overall 7"},
		"set counts":    {edit(func(m map[string]any) { overall(m)["service_time"] = map[string]any{} }), "ddsketch: mapping"},
	}
	for name, c := range cases {
		_, err := Decode(strings.NewReader(c.in))
		require.Error(t, err, name)
		assert.ErrorIs(t, err, ErrBadSketches, name)
		assert.Contains(t, err.Error(), c.want, name)
	}
}

func TestDecodeRefusesHostileBins(t *testing.T) {
	sk := New()
	sk.Add(&rprpb.Result{Route: "/a", SentNs: 1, DoneNs: 2e6})
	for name, f := range map[string]func(*Distribution){
		"far index":       func(d *Distribution) { d.sk.GetPositiveValueStore().AddWithCount(1<<30, 1) },
		"fractional":      func(d *Distribution) { d.sk.GetPositiveValueStore().AddWithCount(10, 0.5) },
		"negative counts": func(d *Distribution) { d.sk.GetPositiveValueStore().AddWithCount(10, -1) },
	} {
		c := New()
		require.NoError(t, c.Merge(sk))
		f(c.Overall().Latency)
		_, err := Decode(bytes.NewReader(encode(t, c)))
		require.ErrorIs(t, err, ErrBadSketches, name)
	}
}

func TestReadFileNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), SketchesFile)
	require.NoError(t, os.WriteFile(path, []byte(`{"format":"x"}`), 0o644))
	_, err := ReadFile(path)
	require.ErrorIs(t, err, ErrBadSketches)
	assert.Contains(t, err.Error(), path)
	_, err = ReadFile(filepath.Join(t.TempDir(), "missing.json"))
	assert.ErrorContains(t, err, "missing.json")
}

func TestFromResultsEqualsAddingTheRecords(t *testing.T) {
	rs := genResults(5, 10, 20)
	want := New()
	for _, r := range rs {
		want.Add(r)
	}
	dir := t.TempDir()
	writeRun(t, dir, rs, time.Unix(1700000000, 0), "")
	got, err := FromResults(t.Context(), filepath.Join(dir, replay.ResultsFile))
	require.NoError(t, err)
	assert.Equal(t, encode(t, want), encode(t, got))

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = FromResults(ctx, filepath.Join(dir, replay.ResultsFile))
	assert.ErrorIs(t, err, context.Canceled)

	bad := filepath.Join(dir, "bad.rpr")
	require.NoError(t, os.WriteFile(bad, []byte("not a recording"), 0o644))
	_, err = FromResults(t.Context(), bad)
	assert.ErrorContains(t, err, "bad.rpr")
}

// FuzzDecode: sketches.json is read from run directories others produced.
// Decode must never panic, and whatever it accepts must survive a round trip.
func FuzzDecode(f *testing.F) {
	var b bytes.Buffer
	_ = smallSketches().Encode(&b)
	f.Add(b.Bytes())
	b.Reset()
	_ = New().Encode(&b)
	f.Add(b.Bytes())
	f.Add([]byte(`{"format":"reprise-sketches/v1","unit":"ms","relative_accuracy":0.01}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sk, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		var once, twice bytes.Buffer
		require.NoError(t, sk.Encode(&once))
		back, err := Decode(bytes.NewReader(once.Bytes()))
		require.NoError(t, err)
		require.NoError(t, back.Encode(&twice))
		require.Equal(t, once.String(), twice.String())
		_ = sk.Overall().Latency.Quantiles()
		_ = sk.LagP99()
	})
}

func TestSketchRunWritesTheRunsSketches(t *testing.T) {
	dir := t.TempDir()
	rs := genResults(6, 5, 10)
	sum := writeRun(t, dir, rs, time.Unix(1, 0), "")
	sk, err := SketchRun(t.Context(), dir)
	require.NoError(t, err)
	assert.EqualValues(t, sum.Requests.Sent, sk.Overall().Count())
	back, err := ReadFile(filepath.Join(dir, SketchesFile))
	require.NoError(t, err)
	assert.Equal(t, encode(t, sk), encode(t, back))
	_, err = SketchRun(t.Context(), t.TempDir())
	assert.ErrorContains(t, err, "results.rpr")
}
