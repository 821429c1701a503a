package proxy

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/sink"
)

// finish seals the exchange, builds its record and hands it to the sink.
// The response has been relayed by now; what is left is bookkeeping.
func (p *Proxy) finish(x *exchange) {
	end := p.since()
	x.mu.Lock()
	x.sealed = true
	x.mu.Unlock()
	if x.ws != nil {
		p.upgrades.Delete(x.ws)
	}
	ex := x.build(end)
	p.emit(ex, x)
}

// build turns the sealed capture into a record. Nothing writes to x after
// sealing, so no lock is needed.
func (x *exchange) build(end time.Duration) *rprpb.Exchange {
	r := x.req
	ex := &rprpb.Exchange{
		Id:           x.id,
		ConnectionId: x.conn,
		StreamId:     x.stream,
		Protocol:     x.proto,
		ClientAddr:   r.RemoteAddr,
		StartNs:      int64(x.start),
		FirstByteNs:  int64(x.firstByte),
		EndNs:        int64(end),
		Error:        x.errMsg,
	}
	if x.firstByte == 0 {
		// No response came back at all (the client gave up first).
		ex.FirstByteNs = int64(end)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	req := &rprpb.Request{
		Method:   r.Method,
		Scheme:   scheme,
		Host:     r.Host,
		Path:     r.URL.EscapedPath(),
		RawQuery: r.URL.RawQuery,
		Proto:    r.Proto,
		Headers:  headers(r.Header),
		Body:     x.reqTap.body(),
	}
	if x.reqTap.eof {
		// The server fills Trailer only once the body hit EOF.
		req.Trailers = headers(r.Trailer)
	}
	ex.Request = req

	resp := &rprpb.Response{Status: int32(x.status), Proto: r.Proto}
	if x.resp != nil && x.status == 0 {
		resp.Status = int32(x.resp.StatusCode)
		resp.Headers = headers(x.resp.Header)
		resp.Body = x.respTap.body()
		if x.respTap.eof {
			resp.Trailers = headers(x.resp.Trailer)
		}
	} else {
		x.respTap.body() // return its buffer
	}
	ex.Response = resp

	switch {
	case x.grpc != nil:
		g := x.grpc
		ex.Grpc = g.result(r.URL.Path, x.resp, x.respTap.eof, x.status)
		// The messages hold the bytes; the bodies keep only sizes, so
		// nothing is stored twice.
		req.Body = sizeOnly(req.Body, g.req.lossy || g.overflow)
		resp.Body = sizeOnly(resp.Body, g.resp.lossy || g.overflow)
	case x.ws != nil:
		ex.Websocket = x.ws.result()
	}
	return ex
}

func sizeOnly(b *rprpb.Body, lossy bool) *rprpb.Body {
	if b == nil {
		return nil
	}
	return &rprpb.Body{Size: b.Size, Truncated: lossy}
}

// emit stamps the session, redacts when the proxy was asked to, writes the
// record and counts it.
func (p *Proxy) emit(ex *rprpb.Exchange, x *exchange) {
	p.sessionOf(ex, x)
	if p.redactor != nil {
		p.redactor.Exchange(ex)
	}
	captured := capturedBytes(ex)
	p.capturedB.Add(captured)
	// The sink owns the record once it accepts it (the queue's consumer
	// redacts it concurrently), so take what the metrics need first.
	outcome := outcomeOf(ex)
	err := p.sink.Write(context.Background(), &rprpb.Record{Kind: &rprpb.Record_Exchange{Exchange: ex}})
	switch {
	case err == nil:
		p.recorded.Add(1)
	case errors.Is(err, sink.ErrQueueFull), errors.Is(err, sink.ErrQueueClosed):
		p.dropped.Add(1)
	default:
		p.dropped.Add(1)
		p.sinkErrors.Add(1)
	}
	if p.metrics != nil {
		p.metrics.observe(x, outcome, err == nil, captured)
	}
}

// outcome is what the metrics say about an exchange.
type outcome struct {
	protocol rprpb.Protocol
	status   int32
	grpc     bool
	grpcCode int32
}

func outcomeOf(ex *rprpb.Exchange) outcome {
	o := outcome{protocol: ex.Protocol, status: ex.GetResponse().GetStatus()}
	if g := ex.Grpc; g != nil {
		o.grpc, o.grpcCode = true, g.StatusCode
	}
	return o
}

func capturedBytes(ex *rprpb.Exchange) int64 {
	n := int64(len(ex.GetRequest().GetBody().GetData()) + len(ex.GetResponse().GetBody().GetData()))
	for _, m := range ex.GetGrpc().GetMessages() {
		n += int64(len(m.Data))
	}
	for _, m := range ex.GetWebsocket().GetMessages() {
		n += int64(len(m.Data))
	}
	return n
}

// headers converts a header map to the record's sorted list. The values are
// copied into one backing array, so the record shares nothing with the live
// request.
func headers(h http.Header) []*rprpb.Header {
	if len(h) == 0 {
		return nil
	}
	names := make([]string, 0, len(h))
	nv := 0
	for k, v := range h {
		names = append(names, k)
		nv += len(v)
	}
	slices.Sort(names)
	vals := make([]string, 0, nv)
	hs := make([]rprpb.Header, len(names))
	out := make([]*rprpb.Header, len(names))
	for i, k := range names {
		s := len(vals)
		vals = append(vals, h[k]...)
		hs[i].Name = k
		hs[i].Values = vals[s:len(vals):len(vals)]
		out[i] = &hs[i]
	}
	return out
}
