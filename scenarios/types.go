package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The scalar types below decode from YAML scalars only, with their own
// syntax, so that "90" is never silently 90ns and "2/8" never a string. They
// marshal back to the same syntax (MarshalText), which keeps resolved
// scenarios readable and lets Parse(Marshal(s)) reproduce s.

// Duration is a Go duration written as "90s", "1m30s" or "250ms".
type Duration time.Duration

// Std returns the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q: want a duration such as \"90s\" or \"250ms\"", b)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if err := wantScalar(n, "a duration such as \"90s\""); err != nil {
		return err
	}
	return d.UnmarshalText([]byte(n.Value))
}

// Time is an RFC 3339 time ("2026-03-01T10:00:00Z"), normalised to UTC.
type Time struct{ time.Time }

// MarshalText implements encoding.TextMarshaler.
func (t Time) MarshalText() ([]byte, error) {
	return []byte(t.Time.Format(time.RFC3339Nano)), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *Time) UnmarshalText(b []byte) error {
	v, err := parseTime(string(b))
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (t *Time) UnmarshalYAML(n *yaml.Node) error {
	if err := wantScalar(n, "an RFC 3339 time"); err != nil {
		return err
	}
	return t.UnmarshalText([]byte(n.Value))
}

func parseTime(s string) (time.Time, error) {
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want an RFC 3339 time such as \"2026-03-01T10:00:00Z\"", s)
	}
	return v.UTC(), nil
}

// Instant is a point of a recording: an absolute RFC 3339 time, or an offset
// from the recording's start (its clock anchor) written as a duration ("90s").
type Instant struct {
	// At is the absolute time; zero when the instant is an offset.
	At time.Time
	// Offset from the start of the recording, used when At is zero.
	Offset time.Duration
}

// IsOffset tells whether the instant is relative to the recording start.
func (i Instant) IsOffset() bool { return i.At.IsZero() }

func (i Instant) String() string {
	if i.IsOffset() {
		return i.Offset.String()
	}
	return i.At.Format(time.RFC3339Nano)
}

// MarshalText implements encoding.TextMarshaler.
func (i Instant) MarshalText() ([]byte, error) { return []byte(i.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (i *Instant) UnmarshalText(b []byte) error {
	s := string(b)
	if d, err := time.ParseDuration(s); err == nil {
		*i = Instant{Offset: d}
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.IsZero() {
		return fmt.Errorf("%q: want an RFC 3339 time or an offset from the recording start such as \"90s\"", s)
	}
	*i = Instant{At: t.UTC()}
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (i *Instant) UnmarshalYAML(n *yaml.Node) error {
	if err := wantScalar(n, "an RFC 3339 time or an offset such as \"90s\""); err != nil {
		return err
	}
	return i.UnmarshalText([]byte(n.Value))
}

// Shard selects the sessions one machine replays when a replay is split
// across N machines (by dependency component, hashed): "i/N" with
// 0 ≤ i < N. The zero value means no sharding.
type Shard struct {
	Index int
	Count int
}

// IsZero reports an unset shard, so that YAML omits it.
func (s Shard) IsZero() bool { return s == Shard{} }

func (s Shard) String() string {
	if s.IsZero() {
		return ""
	}
	return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count)
}

// ParseShard parses "i/N". The range is checked by Validate, so that the
// message can name the field.
func ParseShard(v string) (Shard, error) {
	i, n, ok := strings.Cut(v, "/")
	idx, err1 := strconv.ParseUint(i, 10, 31)
	cnt, err2 := strconv.ParseUint(n, 10, 31)
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("%q: want \"i/N\" such as \"2/8\"", v)
	}
	return Shard{Index: int(idx), Count: int(cnt)}, nil
}

// Validate checks 0 ≤ i < N.
func (s Shard) Validate() error {
	if s.IsZero() {
		return nil
	}
	if s.Count < 1 {
		return fmt.Errorf("%q: shard count must be at least 1", s.String())
	}
	if s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("%q: shard index must be in [0, %d)", s.String(), s.Count)
	}
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (s Shard) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Shard) UnmarshalText(b []byte) error {
	v, err := ParseShard(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *Shard) UnmarshalYAML(n *yaml.Node) error {
	if err := wantScalar(n, "\"i/N\" such as \"2/8\""); err != nil {
		return err
	}
	return s.UnmarshalText([]byte(n.Value))
}

// Freq is a rate written "count/period": "200/s", "3000/m", "5/100ms". A
// bare number is per second.
type Freq struct {
	Count float64
	Per   time.Duration
}

// PerSecond returns the rate in events per second.
func (f Freq) PerSecond() float64 {
	if f.Per <= 0 {
		return 0
	}
	return f.Count / f.Per.Seconds()
}

var units = []struct {
	name string
	d    time.Duration
}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}

func (f Freq) String() string {
	per := f.Per.String()
	for _, u := range units {
		if f.Per == u.d {
			per = u.name
		}
	}
	return strconv.FormatFloat(f.Count, 'g', -1, 64) + "/" + per
}

// ParseFreq parses "count/period" or a bare per-second number.
func ParseFreq(v string) (Freq, error) {
	bad := fmt.Errorf("%q: want a rate such as \"200/s\", \"3000/m\" or \"5/100ms\"", v)
	c, per, hasPer := strings.Cut(strings.TrimSpace(v), "/")
	count, err := strconv.ParseFloat(c, 64)
	if err != nil || math.IsInf(count, 0) || math.IsNaN(count) {
		return Freq{}, bad
	}
	f := Freq{Count: count, Per: time.Second}
	if hasPer {
		if per == "" || (per[0] != '.' && (per[0] < '0' || per[0] > '9')) {
			per = "1" + per
		}
		d, err := time.ParseDuration(per)
		if err != nil || d <= 0 {
			return Freq{}, bad
		}
		f.Per = d
	}
	return f, nil
}

// Validate checks that the rate is positive.
func (f Freq) Validate() error {
	if !(f.Count > 0) || f.Per <= 0 {
		return fmt.Errorf("%q: rate must be > 0", f.String())
	}
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (f Freq) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (f *Freq) UnmarshalText(b []byte) error {
	v, err := ParseFreq(string(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (f *Freq) UnmarshalYAML(n *yaml.Node) error {
	if err := wantScalar(n, "a rate such as \"200/s\""); err != nil {
		return err
	}
	return f.UnmarshalText([]byte(n.Value))
}

// Rate is the session start rate of the rate timing mode, in sessions per
// second: one constant rate ("20/s") or a step curve, each point's rate
// holding from its offset until the next point, the last to the end. It
// maps one to one onto the planner's plan.RateCurve.
type Rate struct {
	// Constant is used when Curve is empty.
	Constant Freq
	Curve    []RatePoint
}

// RatePoint is one point of a rate curve.
type RatePoint struct {
	At   Duration `yaml:"at" json:"at" desc:"Time since the replay started from which the rate applies, until the next point."`
	Rate Freq     `yaml:"rate" json:"rate" desc:"Sessions started per second from then on, such as \"20/s\"."`
}

// Validate checks every point: positive rates, offsets starting at 0 and
// strictly increasing.
func (p RatePoint) Validate() error {
	var errs problems
	if p.At < 0 {
		errs.addf("at", "%s: must not be negative", p.At)
	}
	if err := p.Rate.Validate(); err != nil {
		errs.add("rate", err)
	}
	return errs.err()
}

// Validate checks the constant rate or every point of the curve.
func (r Rate) Validate() error {
	var errs problems
	if len(r.Curve) == 0 {
		if err := r.Constant.Validate(); err != nil {
			errs.add("", err)
		}
		return errs.err()
	}
	for i, p := range r.Curve {
		errs.nest(index(i), p.Validate())
		if i == 0 && p.At != 0 {
			errs.addf(index(i)+".at", "%s: the first point must be at 0s", p.At)
		}
		if i > 0 && p.At <= r.Curve[i-1].At {
			errs.addf(index(i)+".at", "%s: must be after the previous point (%s)", p.At, r.Curve[i-1].At)
		}
	}
	return errs.err()
}

// At returns the session start rate, per second, at time t since the replay
// started: the rate of the last point at or before t.
func (r Rate) At(t time.Duration) float64 {
	if len(r.Curve) == 0 {
		return r.Constant.PerSecond()
	}
	prev := r.Curve[0]
	for _, p := range r.Curve[1:] {
		if t < p.At.Std() {
			break
		}
		prev = p
	}
	return prev.Rate.PerSecond()
}

// MarshalYAML implements yaml.Marshaler.
func (r Rate) MarshalYAML() (any, error) {
	if len(r.Curve) > 0 {
		return r.Curve, nil
	}
	return r.Constant, nil
}

// UnmarshalYAML implements yaml.Unmarshaler. The loader has already checked
// the points' fields strictly; this only converts.
func (r *Rate) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.SequenceNode {
		var pts []RatePoint
		if err := n.Decode(&pts); err != nil {
			return err
		}
		if len(pts) == 0 {
			return errors.New("a rate curve needs at least one point")
		}
		*r = Rate{Curve: pts}
		return nil
	}
	if err := wantScalar(n, "a rate such as \"200/s\" or a list of {at, rate} points"); err != nil {
		return err
	}
	*r = Rate{}
	return r.Constant.UnmarshalText([]byte(n.Value))
}

// MarshalJSON implements json.Marshaler.
func (r Rate) MarshalJSON() ([]byte, error) {
	v, _ := r.MarshalYAML()
	return json.Marshal(v)
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *Rate) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '[' {
		*r = Rate{}
		return json.Unmarshal(b, &r.Curve)
	}
	*r = Rate{}
	return json.Unmarshal(b, &r.Constant)
}

func wantScalar(n *yaml.Node, what string) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want %s, got a %s", what, kindName(n))
	}
	return nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "scalar"
	}
	return "node"
}
