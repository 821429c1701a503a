package plan

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Mode is a timing mode.
type Mode int

// Timing modes. Causal is the zero value and the default.
const (
	// Causal sends a request at its recorded offset ÷ speed, but never
	// before each predecessor is done plus the recorded think time ÷ speed.
	// Sessions without a link between them are an open model.
	Causal Mode = iota
	// Recorded sends every request at its recorded offset ÷ speed and
	// ignores dependencies.
	Recorded
	// ASAP keeps only the dependencies: a request goes as soon as its
	// predecessors are done.
	ASAP
	// Rate re-spaces session starts to a given rate or curve and replays
	// each session causally from its new start.
	Rate
)

var modeNames = [...]string{Causal: "causal", Recorded: "recorded", ASAP: "asap", Rate: "rate"}

func (m Mode) String() string {
	if m >= 0 && int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode reads a mode name as used on the command line.
func ParseMode(s string) (Mode, error) {
	for m, name := range modeNames {
		if strings.EqualFold(s, name) {
			return Mode(m), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown timing mode %q (want causal, recorded, asap or rate)", ErrBadOption, s)
}

// RatePoint is one step of a rate curve: from At on, sessions start at
// PerSecond, until the next point.
type RatePoint struct {
	At        time.Duration
	PerSecond float64
}

// ScheduleOption configures a Schedule.
type ScheduleOption func(*schedConfig) error

type schedConfig struct {
	speed float64
	curve []RatePoint
}

// DefaultSpeed replays at recorded pace.
const DefaultSpeed = 1.0

// Speed divides recorded offsets and think times: 2 replays twice as fast.
func Speed(x float64) ScheduleOption {
	return func(c *schedConfig) error {
		if !(x > 0) || math.IsInf(x, 0) {
			return fmt.Errorf("%w: speed %v: want a finite number > 0", ErrBadOption, x)
		}
		c.speed = x
		return nil
	}
}

// SessionRate starts sessions at a constant rate per second (mode Rate).
func SessionRate(perSecond float64) ScheduleOption {
	return RateCurve(RatePoint{PerSecond: perSecond})
}

// RateCurve starts sessions following a step curve (mode Rate). Points must
// start at 0, increase in At, and have finite rates > 0.
func RateCurve(points ...RatePoint) ScheduleOption {
	return func(c *schedConfig) error {
		if len(points) == 0 || points[0].At != 0 {
			return fmt.Errorf("%w: rate curve must start at 0", ErrBadOption)
		}
		for i, pt := range points {
			if !(pt.PerSecond > 0) || math.IsInf(pt.PerSecond, 0) {
				return fmt.Errorf("%w: rate curve point %d: rate %v: want a finite number > 0", ErrBadOption, i, pt.PerSecond)
			}
			if i > 0 && pt.At <= points[i-1].At {
				return fmt.Errorf("%w: rate curve point %d: at %s not after %s", ErrBadOption, i, pt.At, points[i-1].At)
			}
		}
		c.curve = slices.Clone(points)
		return nil
	}
}

// ErrNoRate is returned when mode Rate is asked for without a rate.
var ErrNoRate = errors.New("plan: rate mode needs SessionRate or RateCurve")

// Schedule maps a plan to intended send times, as offsets from the start of
// the replay. It is immutable and safe for concurrent use.
type Schedule struct {
	plan  *Plan
	mode  Mode
	speed float64
	curve []RatePoint // rate mode's
	// base is the static part of each node's intended time in rate mode;
	// the other modes derive it from the node (Base), which spares 8
	// bytes a node.
	base []time.Duration
}

// Schedule prepares the intended times for a mode.
func (p *Plan) Schedule(mode Mode, opts ...ScheduleOption) (*Schedule, error) {
	cfg := schedConfig{speed: DefaultSpeed}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	s := &Schedule{plan: p, mode: mode, speed: cfg.speed}
	if mode == Rate {
		s.curve = cfg.curve
	}
	switch mode {
	case Causal, Recorded, ASAP:
	case Rate:
		if cfg.curve == nil {
			return nil, ErrNoRate
		}
		s.base = make([]time.Duration, len(p.Nodes))
		s.respace(cfg.curve)
	default:
		return nil, fmt.Errorf("%w: mode %d", ErrBadOption, int(mode))
	}
	return s, nil
}

// Mode returns the schedule's timing mode.
func (s *Schedule) Mode() Mode { return s.mode }

// Speed returns the schedule's speed factor.
func (s *Schedule) Speed() float64 { return s.speed }

// Plan returns the plan the schedule times.
func (s *Schedule) Plan() *Plan { return s.plan }

func (s *Schedule) scale(d time.Duration) time.Duration {
	return time.Duration(math.Round(float64(d) / s.speed))
}

// respace gives the k-th session (by first recorded request) the time at
// which the curve's integral reaches k, then offsets its requests by their
// recorded distance from the session's first one ÷ speed.
func (s *Schedule) respace(curve []RatePoint) {
	first := make(map[string]time.Duration)
	var sessions []string
	for i, n := range s.plan.Nodes {
		sess := s.plan.Call(i).Session
		if _, ok := first[sess]; !ok {
			first[sess] = n.Start
			sessions = append(sessions, sess) // nodes are in start order
		}
	}
	start := make(map[string]time.Duration, len(sessions))
	seg, segStart, count := 0, 0.0, 0.0 // seg's start in seconds; sessions started before it
	for k, sess := range sessions {
		want := float64(k)
		for seg+1 < len(curve) {
			end := curve[seg+1].At.Seconds()
			if count+(end-segStart)*curve[seg].PerSecond > want {
				break
			}
			count += (end - segStart) * curve[seg].PerSecond
			seg, segStart = seg+1, end
		}
		at := segStart + (want-count)/curve[seg].PerSecond
		start[sess] = time.Duration(math.Round(at * float64(time.Second)))
	}
	for i, n := range s.plan.Nodes {
		sess := s.plan.Call(i).Session
		s.base[i] = start[sess] + s.scale(n.Start-first[sess])
	}
}

// Base is the static part of node i's intended time: recorded offset ÷
// speed (recorded, causal), the re-spaced offset (rate), or 0 (asap). In
// recorded mode it is the whole answer.
func (s *Schedule) Base(i int) time.Duration {
	switch s.mode {
	case Causal, Recorded:
		// Offsets count from the first planned request, so a window cut
		// from the middle does not open with a long wait; shards keep the
		// unsharded origin, so N machines started together stay aligned.
		return s.scale(s.plan.Nodes[i].Start - s.plan.origin)
	case Rate:
		return s.base[i]
	}
	return 0
}

// Waits reports whether the mode makes a request wait for predecessors.
func (s *Schedule) Waits() bool { return s.mode != Recorded }

// Ready computes node i's intended time from the completion times of its
// predecessors. done reports when a predecessor (by node index) finished,
// as an offset on the same clock; ok is false while any is still running.
func (s *Schedule) Ready(i int, done func(pred int) (time.Duration, bool)) (intended time.Duration, ok bool) {
	t := s.Base(i)
	if !s.Waits() {
		return t, true
	}
	for _, e := range s.plan.Preds(i) {
		d, ok := done(int(e.From))
		if !ok {
			return 0, false
		}
		t = max(t, d+s.think(e))
	}
	return t, true
}

func (s *Schedule) think(e Edge) time.Duration {
	if s.mode == ASAP {
		return 0
	}
	return s.scale(s.plan.Think(e))
}

// Due is a request that may be sent at At (an offset from the replay's
// start). At can lie in the past when a predecessor finished late; latency
// is still measured from At.
type Due struct {
	Node int
	At   time.Duration
}

// Run tracks one replay of a schedule for an open-model executor: it never
// blocks, and a completion releases only the completed node's successors.
// It is safe for concurrent use.
//
// What it keeps per node is what the mode needs: a done bit always; in a
// mode that waits, the predecessors still running and the earliest time
// the finished ones allow (12 bytes), so that a completion computes its
// successors' times from that and never reads another node's state.
type Run struct {
	s       *Schedule
	mu      sync.Mutex
	done    []uint64        // bit i: node i is done
	pending []int32         // predecessors not yet done; nil unless Waits
	ready   []time.Duration // max over done predecessors of done + think; nil unless Waits
	left    int
}

// ErrDone is returned when a node is reported done twice.
var ErrDone = errors.New("plan: node already done")

// NewRun starts tracking a replay and returns the requests due without
// waiting for anything, in order of intended time.
func (s *Schedule) NewRun() (*Run, []Due) {
	n := len(s.plan.Nodes)
	r := &Run{s: s, done: make([]uint64, (n+63)/64), left: n}
	if s.Waits() {
		r.pending, r.ready = make([]int32, n), make([]time.Duration, n)
	}
	var due []Due
	for i := range n {
		if r.pending != nil {
			r.pending[i] = int32(len(s.plan.Preds(i)))
			r.ready[i] = s.Base(i)
		}
		if r.pending == nil || r.pending[i] == 0 {
			due = append(due, Due{Node: i, At: s.Base(i)})
		}
	}
	sortDue(due)
	return r, due
}

// Done records that node i finished at offset at (whatever its outcome: a
// failed request still releases its successors) and returns the requests
// that became due.
func (r *Run) Done(i int, at time.Duration) ([]Due, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i < 0 || i >= len(r.s.plan.Nodes) {
		return nil, fmt.Errorf("%w: node %d of %d", ErrBadOption, i, len(r.s.plan.Nodes))
	}
	word, bit := i/64, uint64(1)<<(i%64)
	if r.done[word]&bit != 0 {
		return nil, fmt.Errorf("%w: node %d (exchange %d)", ErrDone, i, r.s.plan.Nodes[i].ID)
	}
	r.done[word] |= bit
	r.left--
	if r.pending == nil {
		return nil, nil
	}
	var due []Due
	r.s.plan.Succs(i, func(e Edge) {
		to := e.To
		r.ready[to] = max(r.ready[to], at+r.s.think(e))
		if r.pending[to]--; r.pending[to] == 0 {
			due = append(due, Due{Node: int(to), At: r.ready[to]})
		}
	})
	sortDue(due)
	return due, nil
}

// Remaining is the number of nodes not yet done.
func (r *Run) Remaining() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.left
}

func sortDue(d []Due) {
	slices.SortFunc(d, func(a, b Due) int {
		if c := cmpDur(a.At, b.At); c != 0 {
			return c
		}
		return a.Node - b.Node
	})
}
