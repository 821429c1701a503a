package replay

import (
	"errors"
	"fmt"
	"iter"
	"path"
	"strconv"
	"time"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
	"github.com/reprise-dev/reprise/harness/route"
	"github.com/reprise-dev/reprise/scenarios"
)

// resolve returns the scenario the run follows: the --scenario file, or one
// made of FILE, with the command-line overrides applied and validated.
func (o *Options) resolve() (*scenarios.Scenario, error) {
	var sc *scenarios.Scenario
	if o.Scenario != "" {
		var err error
		if sc, err = scenarios.Load(o.Scenario); err != nil {
			return nil, fmt.Errorf("replay: --scenario: %w", err)
		}
		if o.File != "" {
			sc.Recording.Path = o.File
		}
		// Tokens written in the scenario are secrets in that file: the same
		// rule as for --credentials FILE.
		if len(sc.Credentials.Tokens) > 0 && worldReadable(o.Scenario) {
			return nil, fmt.Errorf("replay: --scenario %s: credentials.tokens in a file anyone may read; "+
				"chmod o-r it, or pass the tokens with --credentials FILE", o.Scenario)
		}
	} else {
		if o.File == "" {
			return nil, errors.New("replay: want a recording FILE or --scenario")
		}
		if o.Over.Target == nil && !o.DryRun {
			return nil, errors.New("replay: --target is required (or use --scenario or --dry-run)")
		}
		sc = &scenarios.Scenario{Name: "replay", Recording: scenarios.Recording{Path: o.File}}
		if o.DryRun && o.Over.Target == nil {
			// The stack default is never brought up by a dry run.
			sc.Target.Stack = &scenarios.Stack{}
		}
		sc.SetDefaults()
	}
	over := *o.Over
	if err := o.credentialOverride(&over); err != nil {
		return nil, err
	}
	if err := sc.Apply(over); err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	if err := unsupported(sc); err != nil {
		return nil, err
	}
	return sc, nil
}

// unsupported refuses the scenario entries this build cannot honour rather
// than ignoring them: no observer, checker or verdict extension exists yet.
func unsupported(sc *scenarios.Scenario) error {
	var errs []error
	for _, list := range []struct {
		field string
		refs  []scenarios.ExtensionRef
	}{{"observers", sc.Observers}, {"checks", sc.Checks}, {"verdict", sc.Verdict}} {
		for i, r := range list.refs {
			p := list.field + "[" + strconv.Itoa(i) + "].id"
			errs = append(errs, &scenarios.FieldError{Where: sc.Where(p), Path: p,
				Err: fmt.Errorf("%q: not registered (this build has no %s extensions yet)", r.ID, list.field)})
		}
	}
	return errors.Join(errs...)
}

// timing maps the scenario's timing to the planner's. Rates are sessions
// started per second in both.
func timing(sc *scenarios.Scenario) (plan.Mode, []plan.ScheduleOption, error) {
	mode, err := plan.ParseMode(string(sc.Timing.Mode))
	if err != nil {
		return 0, nil, fmt.Errorf("replay: timing.mode: %w", err)
	}
	so := []plan.ScheduleOption{plan.Speed(sc.Timing.Speed)}
	if r := sc.Timing.Rate; r != nil && mode == plan.Rate {
		so = append(so, plan.RateCurve(ratePoints(*r)...))
	}
	return mode, so, nil
}

func ratePoints(r scenarios.Rate) []plan.RatePoint {
	if len(r.Curve) == 0 {
		return []plan.RatePoint{{PerSecond: r.Constant.PerSecond()}}
	}
	pts := make([]plan.RatePoint, len(r.Curve))
	for i, p := range r.Curve {
		pts[i] = plan.RatePoint{At: p.At.Std(), PerSecond: p.Rate.PerSecond()}
	}
	return pts
}

// filters returns the planner's window option and a predicate for the
// session and route patterns, which the planner has no glob form of.
func filters(sc *scenarios.Scenario, anchor time.Time, windowFlag bool) ([]plan.Option, func(*rprpb.Exchange) bool, error) {
	f := sc.Recording.Filters
	var po []plan.Option
	if w := f.Window; w != nil {
		from, to := time.Duration(0), time.Duration(1<<63-1)
		if w.From != nil {
			from = instant(*w.From, anchor)
		}
		if w.To != nil {
			to = instant(*w.To, anchor)
		}
		if to <= from {
			where := sc.Where("recording.filters.window")
			if windowFlag || where == "" {
				where = "--window"
			}
			return nil, nil, fmt.Errorf("replay: %s: recording.filters.window: %s..%s: end not after start", where, w.From, w.To)
		}
		po = append(po, plan.Window(from, to))
	}
	if len(f.Sessions) == 0 && len(f.Routes) == 0 {
		return po, nil, nil
	}
	keep := func(ex *rprpb.Exchange) bool {
		if len(f.Sessions) > 0 && !anyMatch(f.Sessions, sessionKey(ex)) {
			return false
		}
		if len(f.Routes) == 0 {
			return true
		}
		p := ex.GetRequest().GetPath()
		tmpl := route.Template(p)
		if g := ex.GetGrpc(); g != nil && g.GetFullMethod() != "" {
			p, tmpl = g.GetFullMethod(), g.GetFullMethod()
		}
		for _, r := range f.Routes {
			if r.Match(ex.GetRequest().GetMethod(), p, tmpl) {
				return true
			}
		}
		return false
	}
	return po, keep, nil
}

func instant(i scenarios.Instant, anchor time.Time) time.Duration {
	if i.IsOffset() {
		return i.Offset
	}
	return i.At.Sub(anchor)
}

// sessionKey is the session the planner gives an exchange: its recorded key,
// or its connection when it has none.
func sessionKey(ex *rprpb.Exchange) string {
	if s := ex.GetSession(); s != "" {
		return s
	}
	return "conn-" + strconv.FormatUint(ex.GetConnectionId(), 10)
}

func anyMatch(globs []string, s string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	return false
}

// filterSeq drops the exchanges keep rejects; other records pass.
func filterSeq(seq iter.Seq2[*rprpb.Record, error], keep func(*rprpb.Exchange) bool) iter.Seq2[*rprpb.Record, error] {
	if keep == nil {
		return seq
	}
	return func(yield func(*rprpb.Record, error) bool) {
		for rec, err := range seq {
			if ex := rec.GetExchange(); err == nil && ex != nil && !keep(ex) {
				continue
			}
			if !yield(rec, err) {
				return
			}
		}
	}
}
