package scenarios

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/reprise-dev/reprise/harness/stack"
)

// Struct tags: yaml and json name the field (the same name in both), desc is
// its one-line documentation, default its documented default (SetDefaults
// applies it; a test keeps the two in step) and required marks fields the
// schema and the loader require. The schema and docs/scenarios.md are
// generated from these tags.

// Scenario is one declarative replay: what to replay, against what, how
// fast and how wide, and what to watch and check.
type Scenario struct {
	Name        string         `yaml:"name,omitempty" json:"name,omitempty" desc:"Short name used for run directories and reports; defaults to the file name without extension. Letters, digits, '.', '_' and '-'."`
	Description string         `yaml:"description,omitempty" json:"description,omitempty" desc:"Free text for humans."`
	Recording   Recording      `yaml:"recording" json:"recording" required:"true" desc:"The recording to replay and which part of it."`
	Target      Target         `yaml:"target,omitempty" json:"target,omitempty" desc:"Where to send the traffic: a URL or a stack. Defaults to the local stack's gateway."`
	Timing      Timing         `yaml:"timing,omitempty" json:"timing,omitempty" desc:"How requests are paced."`
	Amplify     Amplify        `yaml:"amplify,omitempty" json:"amplify,omitempty" desc:"Cloning sessions to multiply the load."`
	Shard       Shard          `yaml:"shard,omitempty" json:"shard,omitempty" desc:"Replay only shard i of N (sessions grouped by dependency component, hashed), written \"i/N\" with 0 <= i < N, to split a replay across machines."`
	StartAt     Time           `yaml:"start_at,omitempty" json:"start_at,omitempty" desc:"RFC 3339 time at which to start, so that shards on several machines start together."`
	TimeShift   bool           `yaml:"time_shift,omitempty" json:"time_shift,omitempty" desc:"Shift timestamps found in request bodies by the time elapsed since recording, so that they read as now."`
	Credentials Credentials    `yaml:"credentials,omitempty" json:"credentials,omitempty" desc:"Where replayed requests get their credentials."`
	Out         string         `yaml:"out,omitempty" json:"out,omitempty" desc:"Run directory to write; relative to the working directory. Defaults to one chosen by the replayer."`
	Observers   []ExtensionRef `yaml:"observers,omitempty" json:"observers,omitempty" desc:"Observers that watch the target during the replay (metrics, logs, container stats)."`
	Checks      []ExtensionRef `yaml:"checks,omitempty" json:"checks,omitempty" desc:"Checkers run over the results and observations."`
	Verdict     []ExtensionRef `yaml:"verdict,omitempty" json:"verdict,omitempty" desc:"Rules that turn findings into a verdict and an exit code."`

	// src remembers where each field came from, for error messages; it is
	// nil for scenarios built in code.
	src *source
}

// Recording names the recording and filters its exchanges.
type Recording struct {
	Path    string  `yaml:"path" json:"path" required:"true" desc:"The .rpr file. A relative path is resolved against the scenario file's directory."`
	Filters Filters `yaml:"filters,omitempty" json:"filters,omitempty" desc:"Which exchanges of the recording to replay; all of them when empty."`
}

// Filters select part of a recording. Sessions are kept whole: a session is
// in or out, never cut in the middle, except by the time window.
type Filters struct {
	Window   *Window        `yaml:"window,omitempty" json:"window,omitempty" desc:"Only exchanges that started in this time window."`
	Sessions []string       `yaml:"sessions,omitempty" json:"sessions,omitempty" desc:"Only sessions whose key matches one of these globs (*, ?, [a-z])."`
	Routes   []RoutePattern `yaml:"routes,omitempty" json:"routes,omitempty" desc:"Only exchanges whose route matches one of these patterns: an optional method, then a path glob matched against the path or its route template, e.g. \"POST /v1/items/{id}/buy\", \"/v1/orders/*\", \"/platform.Market/*\"; a trailing /** matches everything below."`
}

// Window is a time window of a recording. Either end may be left open.
type Window struct {
	From *Instant `yaml:"from,omitempty" json:"from,omitempty" desc:"Start (inclusive): an RFC 3339 time or an offset from the recording's start (its clock anchor) such as \"90s\"."`
	To   *Instant `yaml:"to,omitempty" json:"to,omitempty" desc:"End (exclusive), in the same forms as from."`
}

// RoutePattern is "[METHOD ]/path/glob".
type RoutePattern string

// Target is where the replay sends traffic.
type Target struct {
	URL          string   `yaml:"url,omitempty" json:"url,omitempty" desc:"Base URL (http or https) of the system under test. Exclusive with stack."`
	Stack        *Stack   `yaml:"stack,omitempty" json:"stack,omitempty" desc:"A reference stack brought up for the replay. Exclusive with url."`
	AllowTargets []string `yaml:"allow_targets,omitempty" json:"allow_targets,omitempty" desc:"Hosts (host or host:port) other than loopback that this scenario may target. A replay refuses any other non-loopback target."`
}

// Stack is a reference stack and the service that receives the traffic.
type Stack struct {
	Driver  string `yaml:"driver,omitempty" json:"driver,omitempty" default:"local" enum:"local,compose" desc:"Stack driver: local (child processes, no Docker) or compose (Docker Engine)."`
	Service string `yaml:"service,omitempty" json:"service,omitempty" default:"gateway" desc:"The stack service that receives the traffic."`
}

// TimingMode is how the replayer schedules requests.
type TimingMode string

// Timing modes.
const (
	// Causal keeps each session's happens-before order and data-flow edges
	// and otherwise the recorded gaps.
	Causal TimingMode = "causal"
	// Recorded sends every request at its recorded offset.
	Recorded TimingMode = "recorded"
	// ASAP sends as fast as causality allows.
	ASAP TimingMode = "asap"
	// RateMode starts sessions at timing.rate (sessions per second) and
	// replays each one causally from its new start.
	RateMode TimingMode = "rate"
)

// TimingModes lists the modes in documentation order.
var TimingModes = []TimingMode{Causal, Recorded, ASAP, RateMode}

// Timing is the pacing of a replay.
type Timing struct {
	Mode  TimingMode `yaml:"mode,omitempty" json:"mode,omitempty" default:"causal" enum:"causal,recorded,asap,rate" desc:"causal keeps each session's order and the recorded gaps; recorded sends at the recorded offsets; asap as fast as causality allows; rate starts sessions at timing.rate, each replayed causally from its new start."`
	Speed float64    `yaml:"speed,omitempty" json:"speed,omitempty" default:"1" desc:"Time compression for causal and recorded timing: 2 replays twice as fast. Must be > 0."`
	Rate  *Rate      `yaml:"rate,omitempty" json:"rate,omitempty" desc:"For mode rate: sessions started per second as \"20/s\", or a step curve: a list of {at, rate} points, each rate holding until the next point."`
}

// Amplify multiplies the load by cloning sessions.
type Amplify struct {
	Factor  int      `yaml:"factor,omitempty" json:"factor,omitempty" default:"1" desc:"How many copies of each session run: 1 is the recording as is, 3 adds two clones under distinct identities."`
	Collide bool     `yaml:"collide,omitempty" json:"collide,omitempty" desc:"Let clones share entity keys (item, order IDs) with the original on purpose, to provoke races."`
	Offset  Duration `yaml:"offset,omitempty" json:"offset,omitempty" desc:"Start delay between a session and its next clone, such as \"50ms\"; 0 starts them together."`
}

// Credential providers.
const (
	ProviderNone    = "none"
	ProviderStatic  = "static"
	ProviderCommand = "command"
)

// Credentials say how replayed requests are authenticated.
type Credentials struct {
	Provider string            `yaml:"provider,omitempty" json:"provider,omitempty" default:"none" enum:"none,static,command" desc:"none re-correlates the tokens that replayed logins return; static uses tokens; command runs command to get one."`
	Tokens   map[string]string `yaml:"tokens,omitempty" json:"tokens,omitempty" desc:"For provider static: recorded placeholder or session key -> token."`
	Command  []string          `yaml:"command,omitempty" json:"command,omitempty" desc:"For provider command: program and arguments; its standard output, trimmed, is the token."`
	Timeout  Duration          `yaml:"timeout,omitempty" json:"timeout,omitempty" desc:"For provider command: how long one run may take (default 10s)."`
}

// DefaultCommandTimeout bounds one run of a credentials command.
const DefaultCommandTimeout = Duration(10 * time.Second)

// ExtensionRef names a registered extension and its configuration. The
// shape is checked here; the extension checks its own config when loaded.
type ExtensionRef struct {
	ID     string         `yaml:"id" json:"id" required:"true" desc:"Registered extension ID, namespace.name, such as \"checkers.unique_sale\"."`
	Config map[string]any `yaml:"config,omitempty" json:"config,omitempty" desc:"The extension's own configuration, any mapping."`
}

var (
	idPattern   = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)
	namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	method      = regexp.MustCompile(`^[A-Z]+$`)
)

// Validate checks the whole scenario and reports every problem at once,
// joined, each a *FieldError with a path such as "checks[1].id".
func (s *Scenario) Validate() error {
	var errs problems
	if s.Name != "" && !namePattern.MatchString(s.Name) {
		errs.addf("name", "%q: want letters, digits, '.', '_' or '-' (at most 64)", s.Name)
	}
	errs.nest("recording", s.Recording.Validate())
	errs.nest("target", s.Target.Validate())
	errs.nest("timing", s.Timing.Validate())
	errs.nest("amplify", s.Amplify.Validate())
	if err := s.Shard.Validate(); err != nil {
		errs.add("shard", err)
	}
	errs.nest("credentials", s.Credentials.Validate())
	for _, list := range []struct {
		name string
		refs []ExtensionRef
	}{{"observers", s.Observers}, {"checks", s.Checks}, {"verdict", s.Verdict}} {
		for i, r := range list.refs {
			errs.nest(list.name+index(i), r.Validate())
		}
	}
	return errs.err()
}

// Validate checks the path and the filters.
func (r Recording) Validate() error {
	var errs problems
	if r.Path == "" {
		errs.add("path", ErrRequired)
	}
	errs.nest("filters", r.Filters.Validate())
	return errs.err()
}

// Validate checks the window and every pattern.
func (f Filters) Validate() error {
	var errs problems
	if f.Window != nil {
		errs.nest("window", f.Window.Validate())
	}
	for i, p := range f.Sessions {
		if _, err := path.Match(p, ""); err != nil || p == "" {
			errs.addf("sessions"+index(i), "invalid pattern %q", p)
		}
	}
	for i, p := range f.Routes {
		if err := p.Validate(); err != nil {
			errs.add("routes"+index(i), err)
		}
	}
	return errs.err()
}

// Validate checks that offsets are not negative and that from < to when
// both are of the same kind (an offset and a time compare only once the
// recording is open).
func (w Window) Validate() error {
	var errs problems
	for _, e := range []struct {
		name string
		at   *Instant
	}{{"from", w.From}, {"to", w.To}} {
		if e.at != nil && e.at.IsOffset() && e.at.Offset < 0 {
			errs.addf(e.name, "%s: offset must not be negative", e.at.Offset)
		}
	}
	if w.From != nil && w.To != nil && w.From.IsOffset() == w.To.IsOffset() {
		before := w.From.Offset < w.To.Offset
		if !w.From.IsOffset() {
			before = w.From.At.Before(w.To.At)
		}
		if !before {
			errs.addf("to", "%s: must be after from (%s)", w.To, w.From)
		}
	}
	return errs.err()
}

// Split returns the pattern's method ("" for any) and path glob.
func (p RoutePattern) Split() (method, glob string) {
	if m, g, ok := strings.Cut(string(p), " "); ok {
		return m, strings.TrimSpace(g)
	}
	return "", string(p)
}

// Validate checks the method and the glob.
func (p RoutePattern) Validate() error {
	m, g := p.Split()
	_, err := path.Match(g, "")
	if (m != "" && !method.MatchString(m)) || !strings.HasPrefix(g, "/") || err != nil {
		return fmt.Errorf("invalid pattern %q: want [METHOD ]/path/glob", string(p))
	}
	return nil
}

// Match tells whether a request matches: the method (when the pattern has
// one) and the path or its route template. A trailing "/**" matches
// everything below its prefix.
func (p RoutePattern) Match(reqMethod, reqPath, template string) bool {
	m, g := p.Split()
	if m != "" && m != reqMethod {
		return false
	}
	return globMatch(g, reqPath) || globMatch(g, template)
}

// globMatch is path.Match, plus a trailing "/**" that matches the prefix and
// everything below it ("/v1/players/**").
func globMatch(glob, s string) bool {
	if prefix, ok := strings.CutSuffix(glob, "/**"); ok {
		if ok, _ := path.Match(prefix, s); ok {
			return true
		}
		for i := len(s) - 1; i > 0; i-- {
			if s[i] == '/' {
				if ok, _ := path.Match(prefix, s[:i]); ok {
					return true
				}
			}
		}
		return false
	}
	ok, _ := path.Match(glob, s)
	return ok
}

// Validate checks that exactly one of url and stack is set and that each is
// well formed.
func (t Target) Validate() error {
	var errs problems
	switch {
	case t.URL != "" && t.Stack != nil:
		errs.addf("", "url and stack are exclusive; set one")
	case t.URL == "" && t.Stack == nil:
		errs.addf("", "want url or stack")
	case t.URL != "":
		if err := validateURL(t.URL); err != nil {
			errs.add("url", err)
		}
	default:
		errs.nest("stack", t.Stack.Validate())
	}
	for i, h := range t.AllowTargets {
		if h == "" || strings.ContainsAny(h, "/ \t@?#") {
			errs.addf("allow_targets"+index(i), "%q: want a host name or host:port, not a URL", h)
		}
	}
	return errs.err()
}

func validateURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("%q: not a URL", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q: want an http or https URL", raw)
	case u.Host == "":
		return fmt.Errorf("%q: no host", raw)
	case u.User != nil:
		return fmt.Errorf("%q: must not carry credentials; use the credentials section", u.Redacted())
	}
	return nil
}

// Validate checks the driver and service names.
func (s Stack) Validate() error {
	var errs problems
	if s.Driver != "local" && s.Driver != "compose" {
		errs.addf("driver", "%q: want local or compose", s.Driver)
	}
	if _, err := stack.Lookup(s.Service); err != nil {
		errs.add("service", err)
	}
	return errs.err()
}

// Validate checks the mode and the settings that belong to it.
func (t Timing) Validate() error {
	var errs problems
	known := false
	for _, m := range TimingModes {
		known = known || t.Mode == m
	}
	if !known {
		errs.addf("mode", "%q: want one of causal, recorded, asap, rate", t.Mode)
	}
	switch {
	case !(t.Speed > 0) || math.IsInf(t.Speed, 0):
		errs.addf("speed", "%v: must be a number > 0", t.Speed)
	case t.Speed != 1 && (t.Mode == ASAP || t.Mode == RateMode):
		errs.addf("speed", "%v: applies only to causal and recorded timing, not %s", t.Speed, t.Mode)
	}
	switch {
	case t.Mode == RateMode && t.Rate == nil:
		errs.add("rate", fmt.Errorf("%w with mode rate", ErrRequired))
	case t.Mode != RateMode && t.Rate != nil && known:
		errs.addf("rate", "applies only to mode rate, not %s", t.Mode)
	case t.Rate != nil:
		errs.nest("rate", t.Rate.Validate())
	}
	return errs.err()
}

// Validate checks the factor and that collide and offset have clones to act on.
func (a Amplify) Validate() error {
	var errs problems
	if a.Factor < 1 {
		errs.addf("factor", "%d: must be at least 1", a.Factor)
	}
	if a.Factor == 1 && a.Collide {
		errs.addf("collide", "needs factor of at least 2")
	}
	if a.Offset < 0 {
		errs.addf("offset", "%s: must not be negative", a.Offset)
	} else if a.Factor == 1 && a.Offset != 0 {
		errs.addf("offset", "needs factor of at least 2")
	}
	return errs.err()
}

// Validate checks that the provider has what it needs and nothing another
// provider would use.
func (c Credentials) Validate() error {
	var errs problems
	switch c.Provider {
	case ProviderNone, ProviderStatic, ProviderCommand:
	default:
		errs.addf("provider", "%q: want none, static or command", c.Provider)
	}
	if c.Provider == ProviderStatic && len(c.Tokens) == 0 {
		errs.add("tokens", fmt.Errorf("%w with provider static", ErrRequired))
	}
	if c.Provider != ProviderStatic && len(c.Tokens) > 0 {
		errs.addf("tokens", "applies only to provider static")
	}
	for k, v := range c.Tokens {
		if k == "" || v == "" {
			errs.addf("tokens"+key(k), "empty placeholder or token")
		}
	}
	if c.Provider == ProviderCommand && (len(c.Command) == 0 || c.Command[0] == "") {
		errs.add("command", fmt.Errorf("%w with provider command", ErrRequired))
	}
	if c.Provider != ProviderCommand && len(c.Command) > 0 {
		errs.addf("command", "applies only to provider command")
	}
	if c.Provider != ProviderCommand && c.Timeout != 0 {
		errs.addf("timeout", "applies only to provider command")
	} else if c.Provider == ProviderCommand && c.Timeout <= 0 {
		errs.addf("timeout", "%s: must be > 0", c.Timeout)
	}
	return errs.err()
}

// Validate checks the ID's shape and that the config converts to JSON, the
// form extensions.Load takes.
func (r ExtensionRef) Validate() error {
	var errs problems
	if r.ID == "" {
		errs.add("id", ErrRequired)
	} else if !idPattern.MatchString(r.ID) {
		errs.addf("id", "%q: want namespace.name, lower case, such as \"checkers.unique_sale\"", r.ID)
	}
	if _, err := r.ConfigJSON(); err != nil {
		errs.addf("config", "must be JSON-like: string keys and finite numbers only")
	}
	return errs.err()
}

// ConfigJSON returns the config as JSON for extensions.Load; nil when empty.
func (r ExtensionRef) ConfigJSON() ([]byte, error) {
	if len(r.Config) == 0 {
		return nil, nil
	}
	return json.Marshal(r.Config)
}

// SetDefaults fills every unset field that has a default. Parse applies
// defaults only to fields absent from the file, so that an explicit
// "speed: 0" is reported rather than replaced.
func (s *Scenario) SetDefaults() { s.setDefaults(func(string) bool { return false }) }

func (s *Scenario) setDefaults(present func(path string) bool) {
	if s.Target.URL == "" && s.Target.Stack == nil {
		s.Target.Stack = &Stack{}
	}
	if st := s.Target.Stack; st != nil {
		if st.Driver == "" && !present("target.stack.driver") {
			st.Driver = "local"
		}
		if st.Service == "" && !present("target.stack.service") {
			st.Service = "gateway"
		}
	}
	if s.Timing.Mode == "" && !present("timing.mode") {
		s.Timing.Mode = Causal
	}
	if s.Timing.Speed == 0 && !present("timing.speed") {
		s.Timing.Speed = 1
	}
	if s.Amplify.Factor == 0 && !present("amplify.factor") {
		s.Amplify.Factor = 1
	}
	if s.Credentials.Provider == "" && !present("credentials.provider") {
		s.Credentials.Provider = ProviderNone
	}
	if s.Credentials.Provider == ProviderCommand && s.Credentials.Timeout == 0 && !present("credentials.timeout") {
		s.Credentials.Timeout = DefaultCommandTimeout
	}
}
