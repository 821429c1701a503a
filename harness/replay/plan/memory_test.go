package plan_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"iter"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// planDigest hashes everything a plan holds that replay uses: the JSON dry
// run (nodes, edges, correlations with their sources and uses), every
// node's identities, and the amplified plan's dry run built on them.
func planDigest(t *testing.T, p *plan.Plan) string {
	t.Helper()
	h := sha256.New()
	require.NoError(t, p.WriteDryRunJSON(h))
	enc := json.NewEncoder(h)
	for i := range p.Nodes {
		require.NoError(t, enc.Encode(p.Identities(i)))
	}
	a, err := p.Amplify(3)
	require.NoError(t, err)
	require.NoError(t, a.WriteDryRunJSON(h))
	return hex.EncodeToString(h.Sum(nil))
}

// shuffled returns exs in a deterministic random order: the builder is
// fed out of time order, as merged or imported recordings can be.
func shuffled(exs []*rprpb.Exchange, seed uint64) []*rprpb.Exchange {
	out := slices.Clone(exs)
	rng := rand.New(rand.NewPCG(seed, 2))
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// TestPlanDigestsGolden pins the whole plan of the committed recordings and
// of synthetic ones (in time order and shuffled) to digests taken before the
// builder's memory work: keeping less per exchange must not change a plan.
// BuildTwoPass must make the very same plans.
func TestPlanDigestsGolden(t *testing.T) {
	cases := []struct {
		name string
		exs  func() []*rprpb.Exchange
	}{
		{"long-mixed", func() []*rprpb.Exchange { return recordedExchanges(t, "long-mixed.rpr") }},
		{"trading-burst", func() []*rprpb.Exchange { return recordedExchanges(t, "trading-burst.rpr") }},
		{"synthetic-20k", func() []*rprpb.Exchange { return synthetic(20_000, 3) }},
		{"synthetic-5k-shuffled", func() []*rprpb.Exchange { return shuffled(synthetic(5_000, 4), 5) }},
		{"long-mixed-shuffled", func() []*rprpb.Exchange { return shuffled(recordedExchanges(t, "long-mixed.rpr"), 6) }},
	}
	var got strings.Builder
	for _, c := range cases {
		exs := c.exs()
		p, err := plan.Build(exs)
		require.NoError(t, err)
		single := planDigest(t, p)
		opens := 0
		p2, err := plan.BuildTwoPass(context.Background(), func() (iter.Seq2[*rprpb.Record, error], error) {
			opens++
			return records(exs), nil
		})
		require.NoError(t, err)
		assert.Equal(t, 2, opens, c.name)
		assert.Equal(t, single, planDigest(t, p2), "%s: BuildTwoPass made another plan", c.name)
		got.WriteString(c.name + " " + single + "\n")
	}
	golden(t, "plan-digests.txt", []byte(got.String()))
	assert.True(t, strings.HasPrefix(got.String(), "long-mixed "+planDigest(t, loadPlan(t, "long-mixed.rpr"))+"\n"),
		"BuildSeq on the file plans as Build does")
}

// records yields exs as a recording's records.
func records(exs []*rprpb.Exchange) iter.Seq2[*rprpb.Record, error] {
	return func(yield func(*rprpb.Record, error) bool) {
		for _, ex := range exs {
			if !yield(&rprpb.Record{Kind: &rprpb.Record_Exchange{Exchange: ex}}, nil) {
				return
			}
		}
	}
}

// TestBuildTwoPassChangedRecording: a second pass that does not read what
// the first read is an error naming the exchange, not a wrong plan.
func TestBuildTwoPassChangedRecording(t *testing.T) {
	exs := synthetic(200, 9)
	for name, second := range map[string][]*rprpb.Exchange{
		"reordered": shuffled(exs, 1),
		"shorter":   exs[:150],
		"longer":    append(slices.Clone(exs), synthetic(201, 9)[200]),
	} {
		pass := 0
		_, err := plan.BuildTwoPass(context.Background(), func() (iter.Seq2[*rprpb.Record, error], error) {
			if pass++; pass == 2 {
				return records(second), nil
			}
			return records(exs), nil
		})
		require.ErrorIs(t, err, plan.ErrBadExchange, name)
		assert.Contains(t, err.Error(), "changed between passes", name)
	}
	_, err := plan.BuildTwoPass(context.Background(), func() (iter.Seq2[*rprpb.Record, error], error) {
		return nil, errors.New("cannot open")
	})
	require.ErrorContains(t, err, "cannot open")
}

// recordedExchanges reads the exchanges of a committed recording.
func recordedExchanges(t *testing.T, name string) []*rprpb.Exchange {
	t.Helper()
	r, err := recording.Open(filepath.Join("..", "..", "..", "testdata", "recordings", name))
	require.NoError(t, err)
	defer r.Close()
	var out []*rprpb.Exchange
	for rec, err := range r.All() {
		require.NoError(t, err)
		if ex := rec.GetExchange(); ex != nil {
			out = append(out, ex)
		}
	}
	return out
}

// TestDuplicateIDsOutOfOrder: ids need not increase; a repeated one is
// found wherever it comes.
func TestDuplicateIDsOutOfOrder(t *testing.T) {
	mk := func(ids ...uint64) []*rprpb.Exchange {
		var out []*rprpb.Exchange
		for i, id := range ids {
			out = append(out, ex{id: id, session: "s", path: "/a", startMs: int64(i), endMs: int64(i) + 1}.pb())
		}
		return out
	}
	for _, ok := range [][]uint64{{1, 2, 3}, {5, 3, 7, 4}, {9, 8, 7, 6}} {
		p, err := plan.Build(mk(ok...))
		require.NoError(t, err, "%v", ok)
		assert.Len(t, p.Nodes, len(ok))
	}
	for _, bad := range [][]uint64{{1, 1}, {5, 3, 7, 3}, {5, 3, 7, 5}, {2, 9, 4, 9}} {
		_, err := plan.Build(mk(bad...))
		require.ErrorIs(t, err, plan.ErrBadExchange, "%v", bad)
		assert.ErrorContains(t, err, "duplicate id", "%v", bad)
	}
}

// TestPlanElementSizes pins what a node and an edge cost, as a plan holds
// about one of each per exchange: at a million exchanges every byte here
// is a megabyte of the replay's memory (docs/replay.md, Memory).
func TestPlanElementSizes(t *testing.T) {
	assert.LessOrEqual(t, unsafe.Sizeof(plan.Node{}), uintptr(40), "plan.Node")
	assert.LessOrEqual(t, unsafe.Sizeof(plan.Edge{}), uintptr(12), "plan.Edge")
}

// TestPlanElementsHoldNoPointers: the garbage collector never scans memory
// without pointers. With a pointer in each node, every GC cycle of a replay
// walked all of its plan's nodes (40 MB at a million exchanges), and the
// requests due during that mark phase went out late.
func TestPlanElementsHoldNoPointers(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[plan.Node](), reflect.TypeFor[plan.Edge]()} {
		if path, ok := pointerIn(typ, typ.Name()); ok {
			t.Errorf("%s holds a pointer: %s", typ, path)
		}
	}
}

// pointerIn returns the path to a field of typ that is or holds a pointer.
func pointerIn(typ reflect.Type, path string) (string, bool) {
	switch typ.Kind() {
	case reflect.Pointer, reflect.UnsafePointer, reflect.Map, reflect.Slice, reflect.String,
		reflect.Interface, reflect.Chan, reflect.Func:
		return path + " (" + typ.Kind().String() + ")", true
	case reflect.Array:
		return pointerIn(typ.Elem(), path+"[]")
	case reflect.Struct:
		for i := range typ.NumField() {
			f := typ.Field(i)
			if p, ok := pointerIn(f.Type, path+"."+f.Name); ok {
				return p, true
			}
		}
	}
	return "", false
}
