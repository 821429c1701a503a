package importers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/session"
	"github.com/reprise-dev/reprise/recorders/sink"
)

// maxTrackedSessions bounds the set used to count distinct session keys, so
// that a huge .gor file cannot grow it without limit.
const maxTrackedSessions = 1 << 20

// Fallback is the session key an importer gives an exchange from which the
// chain derives none.
type Fallback struct {
	Key, Source string
}

// Emitter is the last step of every imported exchange: session key,
// redaction, body cap, clock shift, statistics and write.
type Emitter struct {
	cfg    *Config
	sink   sink.Sink
	anchor int64
	stats  *Stats
	seen   map[string]struct{}
}

// ErrNoSink is returned when a NewSinkFunc returns neither a sink nor an
// error.
var ErrNoSink = errors.New("importers: newSink returned no sink")

// NewEmitter returns an Emitter writing to s, with times offset from anchor
// (Unix nanoseconds), counting into st.
func NewEmitter(cfg *Config, s sink.Sink, anchor int64, st *Stats) *Emitter {
	return &Emitter{cfg: cfg, sink: s, anchor: anchor, stats: st, seen: make(map[string]struct{})}
}

// Emit finishes ex and writes it. Every *_ns field of ex holds absolute Unix
// nanoseconds when it is called; Emit turns them into offsets from the
// anchor. sessionHeader is what the session chain looks at; nil means the
// request headers. fb is used when the chain yields no key.
func (e *Emitter) Emit(ctx context.Context, ex *rprpb.Exchange, sessionHeader http.Header, fb Fallback) error {
	if sessionHeader == nil {
		sessionHeader = HTTPHeader(ex.GetRequest().GetHeaders())
	}
	// The chain must see the real values, so it runs before redaction; keys
	// that are themselves secrets come back as placeholders.
	req := session.Request{Header: sessionHeader, RemoteAddr: ex.GetClientAddr()}
	key, source := e.cfg.Sessions.KeyRedacted(req, e.cfg.Redactor.Placeholder, e.cfg.Redactor.SensitiveHeaders()...)
	if key == "" {
		key, source = fb.Key, fb.Source
	}
	ex.Session, ex.SessionSource = key, source
	e.countSession(key)

	e.cfg.Redactor.Exchange(ex)

	// Cut only after redaction: a cut through a secret could leave a prefix
	// the redactor no longer recognises.
	for _, b := range []*rprpb.Body{ex.GetRequest().GetBody(), ex.GetResponse().GetBody()} {
		if b == nil {
			continue
		}
		if len(b.Data) > e.cfg.BodyCap {
			b.Data = b.Data[:e.cfg.BodyCap:e.cfg.BodyCap]
			b.Truncated = true
		}
		if b.Truncated {
			e.stats.TruncatedBodies++
		}
	}
	for _, m := range ex.GetWebsocket().GetMessages() {
		if len(m.Data) > e.cfg.BodyCap {
			m.Data = m.Data[:e.cfg.BodyCap:e.cfg.BodyCap]
			m.Truncated = true
		}
	}

	start, end := time.Unix(0, ex.StartNs), time.Unix(0, ex.EndNs)
	if e.stats.First.IsZero() || start.Before(e.stats.First) {
		e.stats.First = start
	}
	if end.After(e.stats.Last) {
		e.stats.Last = end
	}
	e.shift(ex)

	if err := e.sink.Write(ctx, &rprpb.Record{Kind: &rprpb.Record_Exchange{Exchange: ex}}); err != nil {
		return fmt.Errorf("importers: write exchange %d: %w", ex.GetId(), err)
	}
	e.stats.Imported++
	return nil
}

func (e *Emitter) countSession(key string) {
	if key == "" {
		e.stats.NoSession++
		return
	}
	if _, ok := e.seen[key]; ok {
		return
	}
	if len(e.seen) >= maxTrackedSessions {
		e.stats.SessionsCapped = true
		return
	}
	e.seen[key] = struct{}{}
	e.stats.Sessions++
}

func (e *Emitter) shift(ex *rprpb.Exchange) {
	ex.StartNs -= e.anchor
	ex.FirstByteNs -= e.anchor
	ex.EndNs -= e.anchor
	for _, m := range ex.GetGrpc().GetMessages() {
		m.AtNs -= e.anchor
	}
	for _, m := range ex.GetWebsocket().GetMessages() {
		m.AtNs -= e.anchor
	}
}

// HTTPHeader turns recorded headers into an http.Header (names
// canonicalised, values in order).
func HTTPHeader(hs []*rprpb.Header) http.Header {
	h := make(http.Header, len(hs))
	for _, x := range hs {
		for _, v := range x.GetValues() {
			h.Add(x.GetName(), v)
		}
	}
	return h
}

// HeaderList builds a header list that keeps the arrival order of names and
// of values, grouping values under the first spelling of their name
// (compared case-insensitively). It works in linear time, so a hostile input
// with many distinct names cannot make it quadratic.
type HeaderList struct {
	list  []*rprpb.Header
	index map[string]*rprpb.Header
}

// indexFrom is the list length from which Add looks names up in a map:
// below it a scan is cheaper than building the map.
const indexFrom = 16

// Add appends a value and returns the header it went to.
func (l *HeaderList) Add(name, value string) *rprpb.Header {
	if h := l.find(name); h != nil {
		h.Values = append(h.Values, value)
		return h
	}
	h := &rprpb.Header{Name: name, Values: []string{value}}
	l.list = append(l.list, h)
	switch {
	case l.index != nil:
		l.index[strings.ToLower(name)] = h
	case len(l.list) == indexFrom:
		l.index = make(map[string]*rprpb.Header, 2*indexFrom)
		for _, x := range l.list {
			if k := strings.ToLower(x.Name); l.index[k] == nil {
				l.index[k] = x
			}
		}
	}
	return h
}

func (l *HeaderList) find(name string) *rprpb.Header {
	if l.index != nil {
		return l.index[strings.ToLower(name)]
	}
	for _, h := range l.list {
		if strings.EqualFold(h.Name, name) {
			return h
		}
	}
	return nil
}

// Headers returns the list built so far.
func (l *HeaderList) Headers() []*rprpb.Header { return l.list }

// HeaderValue returns the first value of the named header, or "".
func HeaderValue(hs []*rprpb.Header, name string) string {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) && len(h.Values) > 0 {
			return h.Values[0]
		}
	}
	return ""
}

// DeleteHeader removes the named header.
func DeleteHeader(hs []*rprpb.Header, name string) []*rprpb.Header {
	out := hs[:0]
	for _, h := range hs {
		if !strings.EqualFold(h.Name, name) {
			out = append(out, h)
		}
	}
	return out
}
