package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Overrides are command-line settings that take precedence over the file.
// A nil field (or empty AllowTargets) leaves the file's value alone.
type Overrides struct {
	// Target is a URL ("http://127.0.0.1:8080") or a stack as
	// "driver[/service]" ("local", "compose/gateway").
	Target *string
	Timing *TimingMode
	Speed  *float64
	Out    *string
	Shard  *Shard
	// StartAt is an RFC 3339 time.
	StartAt *time.Time
	// Amplify sets amplify.factor.
	Amplify *int
	Collide *bool
	// AllowTargets are added to the file's list: allowing is additive.
	AllowTargets []string
	// Rate sets timing.rate and, unless Timing is also set, mode rate.
	Rate *Rate
}

// flagNames maps the paths overrides set to the flags that set them, so that
// a bad value is blamed on the flag rather than on the file.
var flagNames = map[string]string{
	"target":               "--target",
	"timing.mode":          "--timing",
	"timing.speed":         "--speed",
	"timing.rate":          "--rate",
	"out":                  "--out",
	"shard":                "--shard",
	"start_at":             "--start-at",
	"amplify.factor":       "--amplify",
	"amplify.collide":      "--collide",
	"target.allow_targets": "--allow-target",
}

// Apply overrides the file's settings and validates the result. Changing the
// timing mode drops the file's settings that belong to other modes (a rate
// when leaving mode rate, a speed when moving to asap or rate) unless the
// same overrides set them. On error the scenario is left unchanged.
func (s *Scenario) Apply(o Overrides) error {
	c := *s
	set := map[string]string{}
	if o.Target != nil {
		t, err := ParseTarget(*o.Target)
		if err != nil {
			return &FieldError{Where: "--target", Path: "target", Err: err}
		}
		if t.Stack != nil && t.Stack.Service == "" {
			t.Stack.Service = "gateway"
		}
		c.Target.URL, c.Target.Stack = t.URL, t.Stack
		set["target"] = flagNames["target"]
	}
	if o.Timing != nil {
		c.Timing.Mode = *o.Timing
		if c.Timing.Mode != RateMode && o.Rate == nil {
			c.Timing.Rate = nil
		}
		if (c.Timing.Mode == ASAP || c.Timing.Mode == RateMode) && o.Speed == nil {
			c.Timing.Speed = 1
		}
		set["timing.mode"] = flagNames["timing.mode"]
	}
	if o.Rate != nil {
		r := *o.Rate
		c.Timing.Rate = &r
		if o.Timing == nil {
			c.Timing.Mode = RateMode
			if o.Speed == nil {
				c.Timing.Speed = 1
			}
		}
		set["timing.rate"] = flagNames["timing.rate"]
	}
	if o.Speed != nil {
		c.Timing.Speed = *o.Speed
		set["timing.speed"] = flagNames["timing.speed"]
	}
	if o.Out != nil {
		c.Out = *o.Out
		set["out"] = flagNames["out"]
	}
	if o.Shard != nil {
		c.Shard = *o.Shard
		set["shard"] = flagNames["shard"]
	}
	if o.StartAt != nil {
		c.StartAt = Time{o.StartAt.UTC()}
		set["start_at"] = flagNames["start_at"]
	}
	if o.Amplify != nil {
		c.Amplify.Factor = *o.Amplify
		set["amplify.factor"] = flagNames["amplify.factor"]
	}
	if o.Collide != nil {
		c.Amplify.Collide = *o.Collide
		set["amplify.collide"] = flagNames["amplify.collide"]
	}
	if len(o.AllowTargets) > 0 {
		c.Target.AllowTargets = slices.Clone(c.Target.AllowTargets)
		for _, h := range o.AllowTargets {
			if !slices.Contains(c.Target.AllowTargets, h) {
				c.Target.AllowTargets = append(c.Target.AllowTargets, h)
			}
		}
		set["target.allow_targets"] = flagNames["target.allow_targets"]
	}
	if err := c.validate(set); err != nil {
		return err
	}
	*s = c
	return nil
}

// ParseTarget parses the --target syntax: a URL when it has a scheme,
// otherwise "driver[/service]". Only the syntax is checked here; Validate
// checks the values.
func ParseTarget(v string) (Target, error) {
	if strings.Contains(v, "://") {
		return Target{URL: v}, nil
	}
	driver, service, _ := strings.Cut(v, "/")
	if driver == "" {
		return Target{}, fmt.Errorf("%q: want a URL or a stack driver[/service] such as \"local\" or \"compose/gateway\"", v)
	}
	return Target{Stack: &Stack{Driver: driver, Service: service}}, nil
}

// BindFlags defines the override flags on fs and returns the Overrides they
// fill when fs is parsed. Values are parsed as flags are set, so a
// malformed one is reported by fs.Parse naming its flag.
func BindFlags(fs *pflag.FlagSet) *Overrides {
	o := &Overrides{}
	fs.Var(&optional[string]{dst: &o.Target, typ: "url|driver", parse: func(s string) (string, error) {
		_, err := ParseTarget(s)
		return s, err
	}}, "target", "target URL (http://127.0.0.1:8080) or stack driver[/service] (local, compose/gateway)")
	fs.Var(&optional[TimingMode]{dst: &o.Timing, typ: "mode", parse: parseMode}, "timing", "timing mode: causal, recorded, asap or rate")
	fs.Var(&optional[float64]{dst: &o.Speed, typ: "float", parse: func(s string) (float64, error) {
		return strconv.ParseFloat(s, 64)
	}}, "speed", "time compression for causal and recorded timing (2 = twice as fast)")
	fs.Var(&optional[string]{dst: &o.Out, typ: "dir", parse: func(s string) (string, error) { return s, nil }}, "out", "run directory to write")
	fs.Var(&optional[Shard]{dst: &o.Shard, typ: "i/N", parse: ParseShard}, "shard", "replay only shard i of N, by session hash (e.g. 2/8)")
	fs.Var(&optional[time.Time]{dst: &o.StartAt, typ: "time", parse: parseTime}, "start-at", "RFC 3339 time to start at, to align shards across machines")
	fs.Var(&optional[int]{dst: &o.Amplify, typ: "N", parse: strconv.Atoi}, "amplify", "run N copies of each session under distinct identities")
	fs.Var(&optional[bool]{dst: &o.Collide, typ: "bool", parse: strconv.ParseBool}, "collide", "let session clones share entity keys, to provoke races")
	fs.Lookup("collide").NoOptDefVal = "true"
	fs.Var(&hostList{dst: &o.AllowTargets}, "allow-target", "allow this non-loopback host as a target (repeatable)")
	fs.Var(&optional[Rate]{dst: &o.Rate, typ: "rate", parse: func(s string) (Rate, error) {
		f, err := ParseFreq(s)
		return Rate{Constant: f}, err
	}}, "rate", "request rate such as 200/s; implies --timing rate")
	return o
}

func parseMode(s string) (TimingMode, error) {
	for _, m := range TimingModes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("%q: want one of causal, recorded, asap, rate", s)
}

// optional is a flag that sets *dst only when given, so that an absent flag
// is told apart from one set to its zero value.
type optional[T any] struct {
	dst   **T
	typ   string
	parse func(string) (T, error)
}

func (f *optional[T]) Set(s string) error {
	v, err := f.parse(s)
	if err != nil {
		return err
	}
	*f.dst = &v
	return nil
}

func (f *optional[T]) String() string {
	if f == nil || f.dst == nil || *f.dst == nil {
		return ""
	}
	return fmt.Sprint(**f.dst)
}

func (f *optional[T]) Type() string { return f.typ }

// hostList is a repeatable, comma-separable flag.
type hostList struct{ dst *[]string }

func (h *hostList) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*h.dst = append(*h.dst, v)
		}
	}
	return nil
}

func (h *hostList) String() string {
	if h == nil || h.dst == nil {
		return ""
	}
	return strings.Join(*h.dst, ",")
}

func (h *hostList) Type() string { return "host" }

var (
	_ pflag.Value = (*optional[int])(nil)
	_ pflag.Value = (*hostList)(nil)
)
