package replay

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// Sentinel errors.
var (
	ErrBadOption = errors.New("replay: bad option")
	// ErrMissingExchange: the plan names an exchange the source lacks.
	ErrMissingExchange = errors.New("replay: exchange missing from source")
)

const (
	// workerIdle is how long an idle worker waits for a request before it
	// exits: long enough to carry a worker, and the stack it has grown,
	// across the gaps of a steady run; short enough that the goroutines a
	// burst needed do not stay parked until the run ends.
	workerIdle = 5 * time.Second
	// resultsBuffer is how many Results may wait for the writer of
	// results.rpr. It bounds their memory: past it, a completing goroutine
	// waits to hand its Result over.
	resultsBuffer = 1024
)

// Run-directory file names.
const (
	ResultsFile = "results.rpr"
	SummaryFile = "summary.json"
	PlanFile    = "plan.json"
)

// Replayer drives one schedule against one target, once.
type Replayer struct {
	sched  *plan.Schedule
	plan   *plan.Plan
	src    Source
	target *url.URL
	cfg    config
	// drivers by recorded protocol, from the codec registry; conns holds
	// their clients, one per recorded connection.
	drivers map[rprpb.Protocol]protocol.Driver
	conns   *conns

	// produces[prodOff[i]:prodOff[i+1]] are the correlations node i is
	// the source of; uses[useOff[i]:useOff[i+1]] the correlated values it
	// sends.
	prodOff, produces []int32
	useOff            []int32
	uses              []use
	live              []atomic.Pointer[string]

	inFlight atomic.Int64
	// workers counts the goroutines requests run on, busy or idle; the
	// one leading the dispatch is not among them while it leads.
	workers atomic.Int64
	mu      sync.Mutex // guards col for Progress
	col     *collector
	t0      time.Time
	ran     atomic.Bool

	// workerIdle is how long a worker waits for a request before it
	// exits: the workerIdle constant, which tests shorten.
	workerIdle time.Duration
	// beforeSend is a test hook that stands for a slow generator.
	beforeSend func(node int)
	// newAlarm makes the dispatcher's alarm: newAlarm, which tests wrap.
	newAlarm func() alarm
	// newResults makes results.rpr's writer on its open file:
	// recording.NewFileWriter, which tests slow down.
	newResults func(*os.File, *rprpb.FileHeader) (*recording.Writer, error)
	// newRun starts the schedule's run: Schedule.NewRun, which tests
	// watch.
	newRun func() (*plan.Run, []plan.Due)
}

// New prepares a replay. Every planned exchange must be in src.
func New(s *plan.Schedule, src Source, target *url.URL, opts ...Option) (*Replayer, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if target == nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return nil, fmt.Errorf("%w: target %v: want http(s)://host[:port]", ErrBadOption, target)
	}
	p := s.Plan()
	r := &Replayer{sched: s, plan: p, src: src, target: target, cfg: cfg,
		drivers: map[rprpb.Protocol]protocol.Driver{},
		conns:   newConns(protocol.Target{URL: target, TLS: cfg.tls, MaxBody: maxBody}),
		live:    make([]atomic.Pointer[string], len(p.Correlations)),
		col:     newCollector(), workerIdle: workerIdle, newAlarm: newAlarm,
		newResults: func(f *os.File, h *rprpb.FileHeader) (*recording.Writer, error) { return recording.NewFileWriter(f, h) },
		newRun:     s.NewRun}
	codecs := protocol.NewResolver()
	for i, n := range p.Nodes {
		proto, ok := src.protocol(n.ID)
		if !ok {
			return nil, fmt.Errorf("%w: node %d, exchange %d", ErrMissingExchange, i, n.ID)
		}
		if _, seen := r.drivers[proto]; !seen {
			r.drivers[proto] = codecs.DriverFor(proto) // nil: unsupported
		}
	}
	r.index()
	r.col.sum.Requests.Planned = len(p.Nodes)
	r.col.sum.Correlations.Found = len(p.Correlations)
	r.col.sum.Target = target.String()
	r.col.sum.Mode = s.Mode().String()
	r.col.sum.Speed = s.Speed()
	r.col.sum.Shard = cfg.shard
	r.col.sum.RunID = NewRunID()
	r.col.sum.Plan = s.Fingerprint()
	return r, nil
}

// index lays out, per node, the correlations it issues and the values it
// sends, in two flat arrays (a slice per node would cost far more at a
// million nodes). A plan without correlations gets none: 8 bytes a node
// that every lookup would find empty.
func (r *Replayer) index() {
	n := len(r.plan.Nodes)
	if len(r.plan.Correlations) == 0 {
		return
	}
	r.prodOff, r.useOff = make([]int32, n+1), make([]int32, n+1)
	for _, c := range r.plan.Correlations {
		r.prodOff[c.Source.Node+1]++
		for _, u := range c.Uses {
			r.useOff[u.Node+1]++
		}
	}
	for i := range n {
		r.prodOff[i+1] += r.prodOff[i]
		r.useOff[i+1] += r.useOff[i]
	}
	r.produces, r.uses = make([]int32, r.prodOff[n]), make([]use, r.useOff[n])
	pn, un := slices.Clone(r.prodOff[:n]), slices.Clone(r.useOff[:n])
	for ci, c := range r.plan.Correlations {
		r.produces[pn[c.Source.Node]] = int32(ci)
		pn[c.Source.Node]++
		for _, u := range c.Uses {
			r.uses[un[u.Node]] = use{corr: ci, at: u.At}
			un[u.Node]++
		}
	}
}

func (r *Replayer) producesOf(node int) []int32 {
	if r.prodOff == nil {
		return nil
	}
	return r.produces[r.prodOff[node]:r.prodOff[node+1]]
}

func (r *Replayer) usesOf(node int) []use {
	if r.useOff == nil {
		return nil
	}
	return r.uses[r.useOff[node]:r.useOff[node+1]]
}

// Run replays a schedule against target; see Replayer.Run.
func Run(ctx context.Context, s *plan.Schedule, src Source, target *url.URL, opts ...Option) (Summary, error) {
	r, err := New(s, src, target, opts...)
	if err != nil {
		return Summary{}, err
	}
	return r.Run(ctx)
}

// Run replays the schedule once. It is an open model: each request goes out
// at its intended time in its own goroutine, however many are in flight;
// when the generator falls behind, requests go out late and the lag is
// measured. Cancelling ctx ends the run: in-flight requests are aborted and
// the requests never sent are counted as dropped. So does a failure to
// read an exchange back from the Store (ErrStore): every later read would
// fail alike, so the run stops rather than report the rest unbuilt one by
// one, and Run returns that error. The Summary is returned (and written)
// even then; the error reports only I/O trouble or misuse.
func (r *Replayer) Run(ctx context.Context) (Summary, error) {
	if r.ran.Swap(true) {
		return Summary{}, fmt.Errorf("%w: Run called twice", ErrBadOption)
	}
	if err := r.prepareRunDir(); err != nil {
		return Summary{}, err
	}
	for i, n := range r.plan.Nodes {
		proto, _ := r.src.protocol(n.ID)
		r.conns.expect(connKey{r.plan.Call(i).Session, n.Connection, proto})
	}
	f, err := r.openResults()
	if err != nil {
		return Summary{}, err
	}
	// The run's state is made before the clock too: at a million nodes,
	// sorting the requests due at once (every one in recorded mode) takes
	// tens of milliseconds that the first requests would wait.
	st := r.newDispatchState()
	// The clock starts after the preparation, so that writing plan.json
	// does not count as generator lag.
	r.mu.Lock()
	r.t0 = time.Now()
	r.col.sum.StartedAt = r.t0.UTC()
	r.mu.Unlock()
	results := make(chan *rprpb.Result, resultsBuffer)
	var (
		sink    *recording.Writer
		sinkErr error
	)
	sinkDone := make(chan struct{})
	go func() { // the single writer of results.rpr and owner of the figures
		defer close(sinkDone)
		if f != nil {
			// Made here, once the clock runs (its header carries the
			// clock's anchor), while the first requests go out: making
			// the compressor took up to 1.5 ms that they used to wait.
			sink, sinkErr = r.newResults(f, r.resultsHeader())
		}
		for res := range results {
			r.mu.Lock()
			r.col.add(res)
			r.mu.Unlock()
			if sink != nil && sinkErr == nil {
				sinkErr = sink.Write(&rprpb.Record{Kind: &rprpb.Record_Result{Result: res}})
			}
		}
	}()

	sent, runErr := r.dispatch(ctx, st, results)
	for i, n := range r.plan.Nodes {
		if !sent[i] {
			c := r.plan.Call(i)
			results <- &rprpb.Result{ExchangeId: n.ID, Clone: uint32(max(c.Clone, 0)), Session: c.Session,
				Method: c.Method, Route: c.Route, IntendedNs: int64(r.sched.Base(i)), GrpcStatus: -1, Dropped: true}
		}
	}
	close(results)
	<-sinkDone
	r.conns.close()

	r.mu.Lock()
	sum := r.col.finish()
	r.mu.Unlock()
	if f != nil {
		if sink != nil {
			if err := sink.Close(); err != nil && sinkErr == nil {
				sinkErr = err
			}
		}
		if sinkErr != nil {
			return sum, errors.Join(runErr, fmt.Errorf("replay: write %s: %w", ResultsFile, sinkErr))
		}
		if err := writeJSONFile(filepath.Join(r.cfg.outDir, SummaryFile), sum.WriteJSON); err != nil {
			return sum, errors.Join(runErr, err)
		}
	}
	return sum, runErr
}

func (r *Replayer) prepareRunDir() error {
	if r.cfg.outDir == "" {
		return nil
	}
	if err := os.MkdirAll(r.cfg.outDir, 0o755); err != nil {
		return fmt.Errorf("replay: run directory: %w", err)
	}
	return writeJSONFile(filepath.Join(r.cfg.outDir, PlanFile), r.sched.WriteDryRunJSON)
}

// openResults creates results.rpr (nil without a run directory), so that a
// run that cannot write its results fails before it starts.
func (r *Replayer) openResults() (*os.File, error) {
	if r.cfg.outDir == "" {
		return nil, nil
	}
	f, err := os.OpenFile(filepath.Join(r.cfg.outDir, ResultsFile), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	return f, nil
}

// resultsHeader is results.rpr's header: its clock is the run's.
func (r *Replayer) resultsHeader() *rprpb.FileHeader {
	hdr := &rprpb.FileHeader{
		FormatVersion:   recording.FormatVersion,
		CreatedUnixNano: r.t0.UnixNano(),
		Recorder:        "reprise replay",
		RecorderConfig: map[string]string{"target": r.target.String(), "mode": r.sched.Mode().String(),
			"speed": strconv.FormatFloat(r.sched.Speed(), 'g', -1, 64)},
		Clock: &rprpb.Clock{Source: "monotonic", AnchorUnixNano: r.t0.UnixNano()},
	}
	if r.cfg.shard != "" {
		hdr.RecorderConfig["shard"] = r.cfg.shard
	}
	hdr.RecorderConfig["plan"] = r.col.sum.Plan
	return hdr
}

func writeJSONFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("replay: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("replay: write %s: %w", path, err)
	}
	return nil
}

// dueHeap orders due requests by intended time.
type dueHeap []plan.Due

func (h dueHeap) Len() int { return len(h) }
func (h dueHeap) Less(i, j int) bool {
	if h[i].At != h[j].At {
		return h[i].At < h[j].At
	}
	return h[i].Node < h[j].Node
}
func (h dueHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)   { *h = append(*h, x.(plan.Due)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// dispatchState is what dispatch starts from, made before the clock
// starts: the run's bookkeeping, the requests due without waiting, in a
// heap, and which nodes were sent.
type dispatchState struct {
	run  *plan.Run
	due  dueHeap
	sent []bool
}

func (r *Replayer) newDispatchState() *dispatchState {
	run, first := r.newRun()
	st := &dispatchState{run: run, due: dueHeap(first), sent: make([]bool, len(r.plan.Nodes))}
	heap.Init(&st.due)
	return st
}

// dispatch fires every request at its intended time and returns which
// nodes were sent (or answered as unsupported or unbuilt) when the run
// ended, and the failure that ended it early, if one did. A completion that
// makes a successor due right away fires it itself, which saves the
// dispatcher's wake-up from the generator lag of causal chains.
func (r *Replayer) dispatch(ctx context.Context, st *dispatchState, results chan<- *rprpb.Result) ([]bool, error) {
	run := st.run
	// runCtx ends with the run: the caller's cancel, a failure, or the
	// last request done.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu      sync.Mutex // guards h, sent, stopped and failure
		h       = st.due
		sent    = st.sent
		stopped bool
		failure error
		wg      sync.WaitGroup
		wake    = make(chan struct{}, 1)
	)
	// fail ends the run early: the first failure is the one reported.
	fail := func(err error) {
		mu.Lock()
		if failure == nil {
			failure = err
		}
		mu.Unlock()
		cancel()
	}
	var fire func(d plan.Due)
	var parked atomic.Int64 // goroutines waiting on results whose successor another worker took
	// complete is called by every request goroutine when its node is done.
	// Of the successors it makes due right away, it fires all but one and
	// hands that one back (ok), for the caller to send next on its own
	// goroutine: a causal chain runs on one goroutine, without a spawn and
	// a scheduler hand-off per request.
	complete := func(d plan.Due, res *rprpb.Result) (next plan.Due, ok bool) {
		done := time.Since(r.t0)
		if res.GetDoneNs() > 0 {
			done = time.Duration(res.GetDoneNs())
		}
		due, _ := run.Done(d.Node, done) // each node is sent once
		now := time.Since(r.t0)
		mu.Lock()
		var direct []plan.Due
		pushed := false
		for _, x := range due {
			if x.At <= now && !stopped && runCtx.Err() == nil {
				sent[x.Node] = true
				direct = append(direct, x)
			} else {
				heap.Push(&h, x)
				pushed = true
			}
		}
		mu.Unlock()
		if len(direct) > 0 {
			next, ok = direct[0], true
			r.inFlight.Add(1)
			for _, x := range direct[1:] {
				fire(x)
			}
		}
		// Wake the dispatcher when it has something new to wait for, or
		// nothing left: a completion that only releases nothing (every
		// one in recorded mode) would make it re-arm its alarm for the
		// same time, a syscall per request.
		if pushed || run.Remaining() == 0 {
			select {
			case wake <- struct{}{}:
			default:
			}
		}
		// The result goes to the writer after the successors are fired.
		// The one handed back should not wait for the writer: when the
		// writer is behind, that successor goes out on another worker
		// while this goroutine waits to hand its result over, so a slow
		// writer costs a spawn rather than generator lag (and a result
		// may reach results.rpr before its predecessor's). Up to
		// resultsBuffer goroutines wait so; past that a completion waits
		// with its successor, which paces the chains to the writer and
		// keeps the Results held bounded.
		select {
		case results <- res:
		default:
			if ok && parked.Add(1) <= resultsBuffer {
				r.inFlight.Add(-1) // fire counts it again
				fire(next)
				next, ok = plan.Due{}, false
				results <- res
				parked.Add(-1)
				break
			}
			if ok {
				parked.Add(-1)
			}
			results <- res
		}
		return next, ok
	}
	// Requests run on workers that outlive them: a worker whose request
	// (and the chain it handed itself) is done waits for the next one,
	// so a request starts on a goroutine whose stack has already grown
	// to what do needs. When no worker is idle a new one starts: the
	// model stays open, nothing ever waits for a free worker. A worker
	// idle for workerIdle exits, so the goroutines of a burst do not
	// outlive it.
	//
	// Dispatching is a role that moves between the workers. The worker
	// that holds it (the leader) sleeps until the next request's time,
	// hands the role on to an idle worker, and sends that request itself:
	// the request goes out on the goroutine that woke for it. Handing the
	// request to another worker instead made it wait for that worker to
	// be scheduled, behind whatever else was runnable (18 µs at the
	// median, 1.3 ms at the 99th percentile, at 15,500 requests a second
	// on two CPUs): most of the generator lag. The new leader has until
	// the next request's time to be scheduled, and a request due at the
	// same time goes out as soon as it is.
	work := make(chan task) // unbuffered: a send succeeds only into an idle worker
	al := r.newAlarm()
	defer al.Stop()
	// armed is the time the alarm is set for, -1 when it is not: waking
	// for another reason, the leader re-arms it only for a new time.
	// Only the leader touches it and the alarm.
	armed := time.Duration(-1)
	dispatched := make(chan struct{}) // closed when dispatching ends
	// lead dispatches until a request is due, which it returns, marked
	// sent, or until none is left or the run ends (ok false; it then
	// closes dispatched).
	lead := func() (next plan.Due, ok bool) {
	dispatching:
		for {
			mu.Lock()
			if h.Len() == 0 {
				mu.Unlock()
				if run.Remaining() == 0 {
					break
				}
				select {
				case <-wake:
				case <-runCtx.Done():
					break dispatching
				}
				continue
			}
			next = h[0]
			if wait := next.At - time.Since(r.t0); wait > 0 {
				mu.Unlock()
				if armed != next.At {
					al.Reset(wait)
					armed = next.At
				}
				select {
				case <-al.C():
					armed = -1
				case <-wake:
				case <-runCtx.Done():
					break dispatching
				}
				continue
			}
			if runCtx.Err() != nil {
				mu.Unlock()
				break
			}
			heap.Pop(&h)
			sent[next.Node] = true
			mu.Unlock()
			return next, true
		}
		// Dispatching is over: no completion sends a successor directly
		// any more, and dispatch's caller may wind the run down.
		mu.Lock()
		stopped = true
		mu.Unlock()
		close(dispatched)
		return plan.Due{}, false
	}
	var worker func(t task, counted bool)
	// start gives t to an idle worker, or to a new one (counted among the
	// workers unless it starts as the leader).
	start := func(t task) {
		select {
		case work <- t:
		default:
			wg.Add(1)
			if !t.lead {
				r.workers.Add(1)
			}
			go worker(t, !t.lead)
		}
	}
	fire = func(d plan.Due) { // the caller marked d sent
		r.inFlight.Add(1)
		start(task{d: d})
	}
	worker = func(t task, counted bool) {
		defer func() {
			if counted {
				r.workers.Add(-1)
			}
			wg.Done()
		}()
		// One timer per worker, made when it first waits and reset only
		// when it goes idle: sending a chain touches no timer.
		var idle *time.Timer
		for {
			d := t.d
			if t.lead {
				// The leader is not counted among the workers while it
				// leads: it waits for no request.
				if counted {
					r.workers.Add(-1)
					counted = false
				}
				next, ok := lead()
				if !ok {
					return
				}
				r.workers.Add(1)
				counted = true
				d = next
				r.inFlight.Add(1)
				start(task{lead: true})
			}
			for ok := true; ok; {
				res, err := r.do(runCtx, d)
				if err != nil {
					fail(err) // before complete: no successor is handed back
				}
				r.inFlight.Add(-1)
				d, ok = complete(d, res)
			}
			if idle == nil {
				idle = time.NewTimer(r.workerIdle)
			} else {
				idle.Reset(r.workerIdle)
			}
			select {
			case t = <-work:
			case <-idle.C:
				return
			case <-runCtx.Done():
				return
			}
		}
	}
	start(task{lead: true})
	<-dispatched
	cancel()
	wg.Wait()
	return sent, failure // no worker is left to set it
}

// task is a worker's next job: a request to send, or (lead) the
// dispatcher's role.
type task struct {
	d    plan.Due
	lead bool
}
