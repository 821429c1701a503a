package results

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/mapping"
	"github.com/DataDog/sketches-go/ddsketch/pb/sketchpb"
	"github.com/DataDog/sketches-go/ddsketch/store"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/replay"
)

// SketchesFile is the run-directory file that holds a run's Sketches.
const SketchesFile = "sketches.json"

// Format identifies the sketches.json layout; docs/summary.md documents it.
const Format = "reprise-sketches/v1"

// MaxSketchesFileSize bounds what ReadFile and Decode accept.
const MaxSketchesFileSize = 64 << 20

// ErrBadSketches marks a sketches file that cannot be used.
var ErrBadSketches = errors.New("results: bad sketches file")

type fileJSON struct {
	Format           string             `json:"format"`
	Unit             string             `json:"unit"`
	RelativeAccuracy float64            `json:"relative_accuracy"`
	Overall          setJSON            `json:"overall"`
	Routes           map[string]setJSON `json:"routes"`
}

type setJSON struct {
	Latency distJSON `json:"latency"`
	Service distJSON `json:"service_time"`
	Lag     distJSON `json:"generator_lag"`
}

type distJSON struct {
	Count int64   `json:"count"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Sum   float64 `json:"sum"`
	// DDSketch is the sketch's protobuf encoding (DataDog's ddsketch.proto),
	// base64.
	DDSketch []byte `json:"ddsketch"`
}

// Encode writes the sketches as sketches.json.
func (s *Sketches) Encode(w io.Writer) error {
	f := fileJSON{Format: Format, Unit: "ms", RelativeAccuracy: RelativeAccuracy,
		Overall: s.overall.toJSON(), Routes: make(map[string]setJSON, len(s.routes))}
	for name, set := range s.routes {
		f.Routes[name] = set.toJSON()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(&f)
}

func (s *Set) toJSON() setJSON {
	return setJSON{Latency: s.Latency.toJSON(), Service: s.Service.toJSON(), Lag: s.Lag.toJSON()}
}

func (d *Distribution) toJSON() distJSON {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(d.sk.ToProto())
	return distJSON{Count: d.n, Min: d.min, Max: d.max, Sum: d.sum, DDSketch: b}
}

// WriteFile writes the sketches to path (normally RUNDIR/sketches.json).
func (s *Sketches) WriteFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	bw := bufio.NewWriter(f)
	err = s.Encode(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("results: write %s: %w", path, err)
	}
	return nil
}

// ReadFile reads a sketches file; errors name the file and wrap
// ErrBadSketches when its content is at fault.
func ReadFile(path string) (*Sketches, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	defer f.Close()
	s, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	return s, nil
}

// Decode reads sketches.json. The input is untrusted: every sketch must use
// the package's index mapping, hold finite non-negative counts within the
// mapping's index range, and agree with its stated count.
func Decode(r io.Reader) (*Sketches, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSketchesFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSketchesFileSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrBadSketches, MaxSketchesFileSize)
	}
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSketches, err)
	}
	switch {
	case f.Format != Format:
		return nil, fmt.Errorf("%w: format %q, want %q", ErrBadSketches, f.Format, Format)
	case f.Unit != "ms":
		return nil, fmt.Errorf("%w: unit %q, want \"ms\"", ErrBadSketches, f.Unit)
	case f.RelativeAccuracy != RelativeAccuracy:
		return nil, fmt.Errorf("%w: relative_accuracy %v, want %v", ErrBadSketches, f.RelativeAccuracy, RelativeAccuracy)
	}
	s := New()
	if s.overall, err = f.Overall.decode(); err != nil {
		return nil, fmt.Errorf("%w: overall.%w", ErrBadSketches, err)
	}
	var n int64
	for name, sj := range f.Routes {
		set, err := sj.decode()
		if err != nil {
			return nil, fmt.Errorf("%w: routes[%q].%w", ErrBadSketches, name, err)
		}
		s.routes[name] = set
		n += set.Count()
	}
	if n != s.overall.Count() {
		return nil, fmt.Errorf("%w: routes hold %d samples, overall %d", ErrBadSketches, n, s.overall.Count())
	}
	return s, nil
}

func (sj setJSON) decode() (*Set, error) {
	var set Set
	var err error
	if set.Latency, err = sj.Latency.decode(); err != nil {
		return nil, fmt.Errorf("latency: %w", err)
	}
	if set.Service, err = sj.Service.decode(); err != nil {
		return nil, fmt.Errorf("service_time: %w", err)
	}
	if set.Lag, err = sj.Lag.decode(); err != nil {
		return nil, fmt.Errorf("generator_lag: %w", err)
	}
	if set.Service.n != set.Latency.n || set.Lag.n != set.Latency.n {
		return nil, fmt.Errorf("counts differ: latency %d, service_time %d, generator_lag %d",
			set.Latency.n, set.Service.n, set.Lag.n)
	}
	return &set, nil
}

// indexBounds are the bin indexes the mapping can produce.
var minIndex, maxIndex = theMapping.Index(theMapping.MinIndexableValue()) - 1, theMapping.Index(theMapping.MaxIndexableValue()) + 1

func (dj distJSON) decode() (*Distribution, error) {
	var pb sketchpb.DDSketch
	if err := proto.Unmarshal(dj.DDSketch, &pb); err != nil {
		return nil, fmt.Errorf("ddsketch: %w", err)
	}
	m, err := mapping.FromProto(pb.GetMapping())
	if err != nil {
		return nil, fmt.Errorf("ddsketch: mapping: %w", err)
	}
	if !m.Equals(theMapping) {
		return nil, fmt.Errorf("ddsketch: mapping (gamma %v, offset %v, %v) is not the %v-accuracy logarithmic one",
			pb.GetMapping().GetGamma(), pb.GetMapping().GetIndexOffset(), pb.GetMapping().GetInterpolation(), RelativeAccuracy)
	}
	total := pb.GetZeroCount()
	if !validCount(total) {
		return nil, fmt.Errorf("ddsketch: zeroCount %v", total)
	}
	for _, st := range []*sketchpb.Store{pb.GetPositiveValues(), pb.GetNegativeValues()} {
		n, err := checkStore(st)
		if err != nil {
			return nil, fmt.Errorf("ddsketch: %w", err)
		}
		total += n
	}
	switch {
	case dj.Count < 0 || total != float64(dj.Count):
		return nil, fmt.Errorf("count %d, but the sketch holds %v", dj.Count, total)
	case !finite(dj.Min) || !finite(dj.Max) || !finite(dj.Sum):
		return nil, errors.New("min, max and sum must be finite")
	case dj.Count > 0 && dj.Min > dj.Max:
		return nil, fmt.Errorf("min %v > max %v", dj.Min, dj.Max)
	}
	sk, err := ddsketch.FromProtoWithStoreProvider(&pb, store.DefaultProvider)
	if err != nil {
		return nil, fmt.Errorf("ddsketch: %w", err)
	}
	d := &Distribution{sk: sk, n: dj.Count, sum: dj.Sum}
	if dj.Count > 0 {
		d.min, d.max = dj.Min, dj.Max
	}
	return d, nil
}

func checkStore(st *sketchpb.Store) (float64, error) {
	var n float64
	for idx, c := range st.GetBinCounts() {
		if int(idx) < minIndex || int(idx) > maxIndex {
			return 0, fmt.Errorf("bin index %d outside [%d, %d]", idx, minIndex, maxIndex)
		}
		if !validCount(c) {
			return 0, fmt.Errorf("bin %d count %v", idx, c)
		}
		n += c
	}
	cs, off := st.GetContiguousBinCounts(), int(st.GetContiguousBinIndexOffset())
	if len(cs) > 0 && (off < minIndex || off+len(cs)-1 > maxIndex) {
		return 0, fmt.Errorf("contiguous bins [%d, %d] outside [%d, %d]", off, off+len(cs)-1, minIndex, maxIndex)
	}
	for i, c := range cs {
		if !validCount(c) {
			return 0, fmt.Errorf("bin %d count %v", off+i, c)
		}
		n += c
	}
	return n, nil
}

// validCount: whole, non-negative, exactly representable sample counts.
func validCount(c float64) bool { return c >= 0 && c <= 1<<53 && c == math.Trunc(c) }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// FromResults builds sketches from a results.rpr, so that any run directory
// can be sketched after the fact.
func FromResults(ctx context.Context, path string) (*Sketches, error) {
	rd, err := recording.Open(path)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	defer rd.Close()
	s := New()
	i := 0
	for rec, err := range rd.All() {
		if err != nil {
			return nil, fmt.Errorf("results: %s: %w", path, err)
		}
		if i++; i%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if r := rec.GetResult(); r != nil {
			s.Add(r)
		}
	}
	return s, ctx.Err()
}

// SketchRun builds dir/sketches.json from dir/results.rpr and returns the
// sketches: one call after a replay, for callers (the replay command) that
// cannot feed Add live. harness/replay cannot call this package itself:
// this package imports it.
func SketchRun(ctx context.Context, dir string) (*Sketches, error) {
	sk, err := FromResults(ctx, filepath.Join(dir, replay.ResultsFile))
	if err != nil {
		return nil, err
	}
	if err := sk.WriteFile(filepath.Join(dir, SketchesFile)); err != nil {
		return nil, err
	}
	return sk, nil
}
