package plan_test

import (
	"time"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// ex is a hand-made HTTP exchange; times in milliseconds.
type ex struct {
	id                  uint64
	session             string
	method, path, query string
	startMs, endMs      int64
	reqHeaders          [][2]string
	reqBody             string
	respHeaders         [][2]string
	respBody            string
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
	return &rprpb.Exchange{
		Id: e.id, Session: e.session, Protocol: rprpb.Protocol_PROTOCOL_HTTP1,
		StartNs: e.startMs * int64(time.Millisecond), EndNs: e.endMs * int64(time.Millisecond),
		Request: &rprpb.Request{Method: method, Path: e.path, RawQuery: e.query, Headers: hdrs(e.reqHeaders),
			Body: &rprpb.Body{Data: []byte(e.reqBody)}},
		Response: &rprpb.Response{Status: 200, Headers: hdrs(e.respHeaders), Body: &rprpb.Body{Data: []byte(e.respBody)}},
	}
}

func build(t interface {
	Helper()
	Fatalf(string, ...any)
}, exs ...ex) *plan.Plan {
	t.Helper()
	var pbs []*rprpb.Exchange
	for _, e := range exs {
		pbs = append(pbs, e.pb())
	}
	p, err := plan.Build(pbs)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return p
}

// edge finds the edge between two exchange ids.
func edge(p *plan.Plan, from, to uint64) (plan.Edge, bool) {
	for i, n := range p.Nodes {
		if n.ID != to {
			continue
		}
		for _, e := range p.Preds(i) {
			if p.Nodes[e.From].ID == from {
				return e, true
			}
		}
	}
	return plan.Edge{}, false
}

const tok = "rpr-redacted-5094d910adf803221e294311"
