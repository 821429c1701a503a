package inspect

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/route"
)

// Defaults for the options.
const (
	DefaultTop       = 10
	DefaultMaxPoints = 600
	// DefaultMaxDistinct bounds the distinct routes and error messages kept,
	// so that a path that defeats route templating cannot exhaust memory.
	DefaultMaxDistinct = 10000
)

// OtherRoutes is the route under which exchanges are counted once the limit
// on distinct routes is reached.
const OtherRoutes = "(other routes)"

// Option configures Stats.
type Option func(*Stats)

// Top sets how many entries each ranked list keeps (routes, entities,
// bodies, error messages).
func Top(n int) Option {
	return func(s *Stats) {
		if n > 0 {
			s.top = n
		}
	}
}

// MaxPoints bounds the points of the rate curve; longer recordings get wider
// buckets.
func MaxPoints(n int) Option {
	return func(s *Stats) {
		if n > 0 {
			s.maxPoints = n
		}
	}
}

// MaxDistinct bounds the distinct routes and error messages kept.
func MaxDistinct(n int) Option {
	return func(s *Stats) {
		if n > 0 {
			s.maxDistinct = n
		}
	}
}

// Header gives the file header: recorder, creation time and clock anchor.
func Header(h *rprpb.FileHeader) Option { return func(s *Stats) { s.hdr = h } }

// File names the recording in the report.
func File(name string) Option { return func(s *Stats) { s.file = name } }

// Stats accumulates records. It is not safe for concurrent use.
type Stats struct {
	top, maxPoints, maxDistinct int
	hdr                         *rprpb.FileHeader
	file                        string
	closed                      bool
	report                      Report

	records, exchanges, other int64
	seen                      bool
	minStart, maxEnd          int64
	sessions                  map[string]struct{}
	withoutSession            int64
	reqBytes, respBytes       int64
	protocols, methods        map[string]int64
	statuses, grpcStatuses    map[string]int64
	routes                    map[string]*routeAcc
	perSecond                 map[int64]int64
	entities                  map[string]*entityAcc
	reqBodies, respBodies     topBodies
	errs                      map[string]*ErrorMessage
	errCount, errUntracked    int64
	damage                    []Damage
	incomplete                bool
	scratch                   []route.Entity
}

type routeAcc struct {
	RouteStat
	totalNs float64
	maxNs   int64
}

// New returns empty Stats.
func New(opts ...Option) *Stats {
	s := &Stats{
		top: DefaultTop, maxPoints: DefaultMaxPoints, maxDistinct: DefaultMaxDistinct,
		sessions:  map[string]struct{}{},
		protocols: map[string]int64{}, methods: map[string]int64{},
		statuses: map[string]int64{}, grpcStatuses: map[string]int64{},
		routes: map[string]*routeAcc{}, perSecond: map[int64]int64{},
		entities: map[string]*entityAcc{}, errs: map[string]*ErrorMessage{},
	}
	for _, o := range opts {
		o(s)
	}
	s.reqBodies.n, s.respBodies.n = s.top, s.top
	return s
}

// Add accumulates one record. It keeps nothing that refers to bodies. Adds
// after Close are ignored.
func (s *Stats) Add(rec *rprpb.Record) {
	if s.closed || rec == nil {
		return
	}
	s.records++
	ex := rec.GetExchange()
	if ex == nil {
		s.other++
		return
	}
	s.exchanges++
	start, end := ex.GetStartNs(), max(ex.GetEndNs(), ex.GetStartNs())
	if !s.seen || start < s.minStart {
		s.minStart = start
	}
	if !s.seen || end > s.maxEnd {
		s.maxEnd = end
	}
	s.seen = true
	s.perSecond[floorDiv(start, int64(time.Second))]++

	if sess := ex.GetSession(); sess != "" {
		s.sessions[sess] = struct{}{}
	} else {
		s.withoutSession++
	}
	s.protocols[protocolName(ex.GetProtocol())]++
	req, resp := ex.GetRequest(), ex.GetResponse()
	method := req.GetMethod()
	if method == "" {
		method = "none"
	}
	s.methods[method]++
	status := "none"
	if code := resp.GetStatus(); code != 0 {
		status = strconv.Itoa(int(code))
	}
	s.statuses[status]++
	if g := ex.GetGrpc(); g != nil {
		s.grpcStatuses[codes.Code(g.GetStatusCode()).String()]++
	}

	path := req.GetPath()
	if full := ex.GetGrpc().GetFullMethod(); full != "" {
		path = full
	}
	tmpl := route.Template(path)
	ra := s.route(method, tmpl)
	ra.Count++
	switch code := resp.GetStatus(); {
	case code >= 500:
		ra.Status5xx++
	case code >= 400:
		ra.Status4xx++
	}
	d := satSub(end, start)
	ra.totalNs += float64(d)
	ra.maxNs = max(ra.maxNs, d)

	reqSize := bodySize(req.GetBody(), ex, rprpb.Direction_DIRECTION_REQUEST)
	respSize := bodySize(resp.GetBody(), ex, rprpb.Direction_DIRECTION_RESPONSE)
	s.reqBytes = satAdd(s.reqBytes, reqSize)
	s.respBytes = satAdd(s.respBytes, respSize)
	s.reqBodies.offer(bodyOf(ex.GetId(), method, tmpl, reqSize, req.GetBody()))
	s.respBodies.offer(bodyOf(ex.GetId(), method, tmpl, respSize, resp.GetBody()))

	if msg := ex.GetError(); msg != "" {
		ra.Errors++
		s.addError(msg, ex.GetId())
	}
	s.addEntities(path, start, end)
}

func (s *Stats) route(method, tmpl string) *routeAcc {
	key := method + " " + tmpl
	if ra, ok := s.routes[key]; ok {
		return ra
	}
	if len(s.routes) >= s.maxDistinct {
		key, method, tmpl = OtherRoutes, "", OtherRoutes
		if ra, ok := s.routes[key]; ok {
			return ra
		}
	}
	ra := &routeAcc{RouteStat: RouteStat{Method: method, Route: tmpl}}
	s.routes[key] = ra
	return ra
}

func (s *Stats) addError(msg string, id uint64) {
	s.errCount++
	if e, ok := s.errs[msg]; ok {
		e.Count++
		e.FirstExchange = min(e.FirstExchange, id)
		return
	}
	if len(s.errs) >= s.maxDistinct {
		s.errUntracked++
		return
	}
	s.errs[msg] = &ErrorMessage{Message: msg, Count: 1, FirstExchange: id}
}

// AddDamage records a place where the recording could not be read; it also
// marks the report incomplete.
func (s *Stats) AddDamage(d Damage) {
	s.incomplete = true
	if len(s.damage) < maxDamage {
		s.damage = append(s.damage, d)
	}
}

// maxDamage bounds the damage entries kept from a badly mangled file.
const maxDamage = 100

// Close computes the derived figures. It is safe to call more than once.
func (s *Stats) Close() {
	if s.closed {
		return
	}
	s.closed = true
	r := &s.report
	r.File = s.file
	r.Complete = !s.incomplete
	r.Damage = s.damage
	r.Records, r.Exchanges, r.OtherRecords = s.records, s.exchanges, s.other
	r.Sessions, r.WithoutSession = int64(len(s.sessions)), s.withoutSession
	r.RequestBytes, r.ResponseBytes = s.reqBytes, s.respBytes
	if h := s.hdr; h != nil {
		r.Recorder = h.GetRecorder()
		if c := h.GetCreatedUnixNano(); c != 0 {
			r.Created = formatTime(c)
		}
		if a := h.GetClock().GetAnchorUnixNano(); a != 0 && s.seen {
			r.Start = formatTime(satAdd(a, s.minStart))
			r.End = formatTime(satAdd(a, s.maxEnd))
		}
	}
	if s.seen {
		r.DurationSeconds = float64(satSub(s.maxEnd, s.minStart)) / 1e9
	}
	r.Protocols = counts(s.protocols)
	r.Methods = counts(s.methods)
	r.Statuses = counts(s.statuses)
	r.GRPCStatuses = counts(s.grpcStatuses)
	r.Routes, r.DistinctRoutes = s.rankRoutes()
	r.Rate = rateCurve(s.perSecond, s.exchanges, s.maxPoints)
	r.Entities = s.rankEntities()
	r.LargestRequests = s.reqBodies.sorted()
	r.LargestResponses = s.respBodies.sorted()
	r.Errors = s.rankErrors()
	// Drop what only Close needed.
	s.entities, s.perSecond, s.sessions = nil, nil, nil
}

// Report returns the figures, closing s first if needed.
func (s *Stats) Report() Report {
	s.Close()
	return s.report
}

func (s *Stats) rankRoutes() ([]RouteStat, int) {
	out := make([]RouteStat, 0, len(s.routes))
	for _, ra := range s.routes {
		rs := ra.RouteStat
		if rs.Count > 0 {
			rs.MeanMs = round3(ra.totalNs / float64(rs.Count) / 1e6)
		}
		rs.MaxMs = round3(float64(ra.maxNs) / 1e6)
		out = append(out, rs)
	}
	slices.SortFunc(out, func(a, b RouteStat) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Route, b.Route), cmp.Compare(a.Method, b.Method))
	})
	return out[:min(len(out), s.top)], len(out)
}

func (s *Stats) rankErrors() Errors {
	e := Errors{Count: s.errCount, Untracked: s.errUntracked, Messages: []ErrorMessage{}}
	for _, m := range s.errs {
		e.Messages = append(e.Messages, *m)
	}
	slices.SortFunc(e.Messages, func(a, b ErrorMessage) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Message, b.Message))
	})
	e.Messages = e.Messages[:min(len(e.Messages), s.top)]
	return e
}

func counts(m map[string]int64) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{Name: k, Count: v})
	}
	slices.SortFunc(out, func(a, b Count) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Name, b.Name))
	})
	return out
}

func protocolName(p rprpb.Protocol) string {
	switch p {
	case rprpb.Protocol_PROTOCOL_HTTP1:
		return "http1"
	case rprpb.Protocol_PROTOCOL_H2C:
		return "h2c"
	case rprpb.Protocol_PROTOCOL_H2:
		return "h2"
	case rprpb.Protocol_PROTOCOL_GRPC:
		return "grpc"
	case rprpb.Protocol_PROTOCOL_WEBSOCKET:
		return "websocket"
	case rprpb.Protocol_PROTOCOL_UNSPECIFIED:
		return "unspecified"
	}
	return "protocol(" + strconv.Itoa(int(p)) + ")"
}

func formatTime(unixNano int64) string {
	return time.Unix(0, unixNano).UTC().Format(time.RFC3339Nano)
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// floorDiv rounds towards minus infinity, so that second -1 holds offsets
// from -1 s up to 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// satAdd and satSub saturate instead of wrapping: field values come from an
// untrusted file.
func satAdd(a, b int64) int64 {
	c := a + b
	if (c > a) != (b > 0) {
		if b > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return c
}

func satSub(a, b int64) int64 {
	if b == math.MinInt64 {
		if a >= 0 {
			return math.MaxInt64
		}
		return a - b
	}
	return satAdd(a, -b)
}
