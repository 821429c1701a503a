package replay

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// ex is a hand-made HTTP exchange; times in milliseconds.
type ex struct {
	id             uint64
	session        string
	conn           uint64
	proto          rprpb.Protocol
	method, path   string
	query          string
	startMs, endMs int64
	reqHeaders     [][2]string
	reqBody        string
	status         int32
	respHeaders    [][2]string
	respBody       string
}

func (e ex) pb() *rprpb.Exchange {
	hdrs := func(hs [][2]string) []*rprpb.Header {
		var out []*rprpb.Header
		for _, h := range hs {
			out = append(out, &rprpb.Header{Name: h[0], Values: []string{h[1]}})
		}
		return out
	}
	method := e.method
	if method == "" {
		method = "GET"
	}
	proto := e.proto
	if proto == 0 {
		proto = rprpb.Protocol_PROTOCOL_HTTP1
	}
	status := e.status
	if status == 0 {
		status = 200
	}
	return &rprpb.Exchange{
		Id: e.id, Session: e.session, ConnectionId: e.conn, Protocol: proto,
		StartNs: e.startMs * int64(time.Millisecond), EndNs: e.endMs * int64(time.Millisecond),
		Request: &rprpb.Request{Method: method, Path: e.path, RawQuery: e.query, Headers: hdrs(e.reqHeaders),
			Body: &rprpb.Body{Data: []byte(e.reqBody)}},
		Response: &rprpb.Response{Status: status, Headers: hdrs(e.respHeaders), Body: &rprpb.Body{Data: []byte(e.respBody)}},
	}
}

// fixture plans exchanges and indexes them.
func fixture(t *testing.T, mode plan.Mode, exs ...ex) (*plan.Schedule, Exchanges) {
	t.Helper()
	src := Exchanges{}
	var pbs []*rprpb.Exchange
	for _, e := range exs {
		p := e.pb()
		pbs = append(pbs, p)
		src[p.GetId()] = p
	}
	p, err := plan.Build(pbs)
	require.NoError(t, err)
	s, err := p.Schedule(mode)
	require.NoError(t, err)
	return s, src
}

// seen records what a test server received.
type seen struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (s *seen) add(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, r)
}

func (s *seen) all() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.reqs...)
}

func server(t *testing.T, h http.HandlerFunc) (*url.URL, *seen) {
	t.Helper()
	var sn seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sn.add(r.Clone(context.Background()))
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	return u, &sn
}

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"ok":true}`)) }

func resultsByID(t *testing.T, dir string) map[uint64]*rprpb.Result {
	t.Helper()
	out := map[uint64]*rprpb.Result{}
	for _, r := range readResults(t, dir) {
		out[r.GetExchangeId()] = r
	}
	return out
}
