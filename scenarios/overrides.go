package scenarios

import (
	"errors"
	"fmt"
	"path"
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
	// RateCurve is Rate written as a step curve (--rate-curve); it
	// excludes Rate.
	RateCurve *Rate
	// CloneOffset sets amplify.offset.
	CloneOffset *Duration
	// TimeShift sets time_shift.
	TimeShift *bool
	// Window replaces recording.filters.window.
	Window *Window
	// Sessions and Routes replace the file's lists when not empty.
	Sessions []string
	Routes   []RoutePattern
	// Credentials replaces the credentials section; CredentialsFlag names
	// the flag that set it, for messages (the command fills both, since a
	// static map comes from a file it reads).
	Credentials     *Credentials
	CredentialsFlag string
}

// flagNames maps the paths overrides set to the flags that set them, so that
// a bad value is blamed on the flag rather than on the file.
var flagNames = map[string]string{
	"target":                     "--target",
	"timing.mode":                "--timing",
	"timing.speed":               "--speed",
	"timing.rate":                "--rate",
	"out":                        "--out",
	"shard":                      "--shard",
	"start_at":                   "--start-at",
	"amplify.factor":             "--amplify",
	"amplify.collide":            "--collide",
	"target.allow_targets":       "--allow-target",
	"amplify.offset":             "--clone-offset",
	"time_shift":                 "--time-shift",
	"recording.filters.window":   "--window",
	"recording.filters.sessions": "--session",
	"recording.filters.routes":   "--route",
}

// Apply overrides the file's settings and validates the result. Changing the
// timing mode drops the file's settings that belong to other modes (a rate
// when leaving mode rate, a speed when moving to asap or rate) unless the
// same overrides set them. On error the scenario is left unchanged.
func (s *Scenario) Apply(o Overrides) error {
	c := *s
	set := map[string]string{}
	if o.Rate != nil && o.RateCurve != nil {
		return &FieldError{Where: "--rate-curve", Path: "timing.rate", Err: errors.New("exclusive with --rate; give one")}
	}
	rateFlag := flagNames["timing.rate"]
	if o.RateCurve != nil {
		o.Rate, rateFlag = o.RateCurve, "--rate-curve"
	}
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
		set["timing.rate"] = rateFlag
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
	if o.CloneOffset != nil {
		c.Amplify.Offset = *o.CloneOffset
		set["amplify.offset"] = flagNames["amplify.offset"]
	}
	if o.TimeShift != nil {
		c.TimeShift = *o.TimeShift
		set["time_shift"] = flagNames["time_shift"]
	}
	if o.Window != nil {
		w := *o.Window
		c.Recording.Filters.Window = &w
		set["recording.filters.window"] = flagNames["recording.filters.window"]
	}
	if len(o.Sessions) > 0 {
		c.Recording.Filters.Sessions = slices.Clone(o.Sessions)
		set["recording.filters.sessions"] = flagNames["recording.filters.sessions"]
	}
	if len(o.Routes) > 0 {
		c.Recording.Filters.Routes = slices.Clone(o.Routes)
		set["recording.filters.routes"] = flagNames["recording.filters.routes"]
	}
	if o.Credentials != nil {
		cr := *o.Credentials
		if cr.Provider == ProviderCommand && cr.Timeout == 0 {
			cr.Timeout = DefaultCommandTimeout
		}
		c.Credentials = cr
		set["credentials"] = o.CredentialsFlag
		if set["credentials"] == "" {
			set["credentials"] = "--credentials"
		}
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
	fs.Var(&optional[TimingMode]{dst: &o.Timing, typ: "mode", parse: parseMode}, "timing", "timing mode: causal (default), recorded, asap or rate")
	fs.Var(&optional[float64]{dst: &o.Speed, typ: "float", parse: func(s string) (float64, error) {
		return strconv.ParseFloat(s, 64)
	}}, "speed", "time compression for causal and recorded timing: 2 = twice as fast (default 1)")
	fs.Var(&optional[string]{dst: &o.Out, typ: "dir", parse: func(s string) (string, error) { return s, nil }}, "out", "run directory to write (default runs/<scenario name>-<UTC time>)")
	fs.Var(&optional[Shard]{dst: &o.Shard, typ: "i/N", parse: ParseShard}, "shard", "replay only shard i of N (0 <= i < N), e.g. 2/8; sessions linked by data stay in one shard")
	fs.Var(&optional[time.Time]{dst: &o.StartAt, typ: "time", parse: parseTime}, "start-at", "RFC 3339 time to start at, to align shards across machines")
	fs.Var(&optional[int]{dst: &o.Amplify, typ: "N", parse: strconv.Atoi}, "amplify", "run N copies of each session: the original and N-1 clones under distinct identities")
	fs.Var(&optional[bool]{dst: &o.Collide, typ: "bool", parse: strconv.ParseBool}, "collide", "clones keep the originals' identities and entity keys, to provoke races (with --amplify)")
	fs.Lookup("collide").NoOptDefVal = "true"
	fs.Var(&hostList{dst: &o.AllowTargets}, "allow-target", "allow this non-loopback host as a target (repeatable)")
	fs.Var(&optional[Rate]{dst: &o.Rate, typ: "rate", parse: func(s string) (Rate, error) {
		f, err := ParseFreq(s)
		return Rate{Constant: f}, err
	}}, "rate", "sessions started per second, such as 20 or 20/s; implies --timing rate")
	fs.Var(&optional[Rate]{dst: &o.RateCurve, typ: "curve", parse: ParseRateCurve}, "rate-curve",
		"step curve of session start rates, AT:RATE,... such as \"0s:10,30s:100,60s:10\"; implies --timing rate")
	fs.Var(&optional[Duration]{dst: &o.CloneOffset, typ: "duration", parse: func(s string) (Duration, error) {
		var d Duration
		err := d.UnmarshalText([]byte(s))
		return d, err
	}}, "clone-offset", "start clone k of a session k times this later (with --amplify)")
	fs.Var(&optional[bool]{dst: &o.TimeShift, typ: "bool", parse: strconv.ParseBool}, "time-shift",
		"move timestamps in JSON request bodies by the time since the recording")
	fs.Lookup("time-shift").NoOptDefVal = "true"
	fs.Var(&optional[Window]{dst: &o.Window, typ: "from..to", parse: ParseWindow}, "window",
		"replay only exchanges started in FROM..TO: offsets from the recording start (10s..40s) or RFC 3339 times; either end may be empty")
	fs.Var(&stringList{dst: &o.Sessions, check: func(v string) error {
		if _, err := path.Match(v, ""); err != nil {
			return fmt.Errorf("invalid pattern %q", v)
		}
		return nil
	}}, "session", "replay only sessions matching this glob (repeatable)")
	fs.Var(&routeList{dst: &o.Routes}, "route", "replay only routes matching \"[METHOD ]/path/glob\" (repeatable)")
	return o
}

// ParseRateCurve parses the --rate-curve syntax "AT:RATE,AT:RATE,...", such
// as "0s:10,30s:100/s,60s:10": each AT a duration, each RATE a rate as in
// ParseFreq. Validate checks the order and the values.
func ParseRateCurve(v string) (Rate, error) {
	var r Rate
	for _, part := range strings.Split(v, ",") {
		at, rate, ok := strings.Cut(strings.TrimSpace(part), ":")
		var p RatePoint
		if !ok || p.At.UnmarshalText([]byte(at)) != nil || p.Rate.UnmarshalText([]byte(rate)) != nil {
			return Rate{}, fmt.Errorf("%q: want AT:RATE,... such as \"0s:10,30s:100,60s:10\"", part)
		}
		r.Curve = append(r.Curve, p)
	}
	return r, nil
}

// ParseWindow parses the --window syntax "FROM..TO"; either end may be
// empty for an open window.
func ParseWindow(v string) (Window, error) {
	a, b, ok := strings.Cut(v, "..")
	if !ok {
		return Window{}, fmt.Errorf("%q: want FROM..TO such as \"10s..40s\"", v)
	}
	var w Window
	for _, e := range []struct {
		s   string
		dst **Instant
	}{{a, &w.From}, {b, &w.To}} {
		if e.s == "" {
			continue
		}
		var i Instant
		if err := i.UnmarshalText([]byte(e.s)); err != nil {
			return Window{}, err
		}
		*e.dst = &i
	}
	if w.From == nil && w.To == nil {
		return Window{}, fmt.Errorf("%q: give at least one end", v)
	}
	return w, nil
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

// stringList is a repeatable, comma-separable flag whose values are
// checked as they are set.
type stringList struct {
	dst   *[]string
	check func(string) error
}

func (l *stringList) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		if err := l.check(v); err != nil {
			return err
		}
		*l.dst = append(*l.dst, v)
	}
	return nil
}

func (l *stringList) String() string {
	if l == nil || l.dst == nil {
		return ""
	}
	return strings.Join(*l.dst, ",")
}

func (l *stringList) Type() string { return "glob" }

// routeList is a repeatable flag of route patterns. It does not split on
// commas, which a glob may contain ({a,b} is not path.Match syntax, but a
// comma in a path is legal).
type routeList struct{ dst *[]RoutePattern }

func (l *routeList) Set(s string) error {
	p := RoutePattern(strings.TrimSpace(s))
	if err := p.Validate(); err != nil {
		return err
	}
	*l.dst = append(*l.dst, p)
	return nil
}

func (l *routeList) String() string {
	if l == nil || l.dst == nil {
		return ""
	}
	var out []string
	for _, p := range *l.dst {
		out = append(out, string(p))
	}
	return strings.Join(out, ",")
}

func (l *routeList) Type() string { return "pattern" }

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
	_ pflag.Value = (*stringList)(nil)
	_ pflag.Value = (*routeList)(nil)
)
