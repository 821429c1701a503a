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
	p.emit(x.build(end), x)
}

// build turns the sealed capture into a record. Nothing writes to x after
// sealing, so no lock is needed. The record's messages come from one
// allocation (recordParts), and its header lists share the live requests'
// value slices: the exchange is over, nothing writes to those maps any more,
// and the redactor never modifies a value slice in place.
func (x *exchange) build(end time.Duration) *rprpb.Record {
	r := x.req
	a := new(recordParts)
	ex := &a.ex
	a.kind.Exchange = ex
	a.rec.Kind = &a.kind
	ex.Id = x.id
	ex.ConnectionId = x.conn
	ex.StreamId = x.stream
	ex.Protocol = x.proto
	ex.ClientAddr = r.RemoteAddr
	ex.StartNs = int64(x.start)
	ex.FirstByteNs = int64(x.firstByte)
	ex.EndNs = int64(end)
	ex.Error = x.errMsg
	if x.firstByte == 0 {
		// No response came back at all (the client gave up first).
		ex.FirstByteNs = int64(end)
	}

	answered := x.resp != nil && x.status == 0
	var hs headerSlab
	n := len(r.Header)
	if x.reqTap.eof {
		n += len(r.Trailer)
	}
	if answered {
		n += len(x.resp.Header)
		if x.respTap.eof {
			n += len(x.resp.Trailer)
		}
	}
	hs.grow(n)

	req := &a.req
	req.Method = r.Method
	req.Scheme = "http"
	if r.TLS != nil {
		req.Scheme = "https"
	}
	req.Host = r.Host
	req.Path = r.URL.EscapedPath()
	req.RawQuery = r.URL.RawQuery
	req.Proto = r.Proto
	req.Headers = hs.list(r.Header)
	req.Body = x.reqTap.body(&a.bodies[0])
	if x.reqTap.eof {
		// The server fills Trailer only once the body hit EOF.
		req.Trailers = hs.list(r.Trailer)
	}
	ex.Request = req

	resp := &a.resp
	resp.Status = int32(x.status)
	resp.Proto = r.Proto
	if answered {
		resp.Status = int32(x.resp.StatusCode)
		resp.Headers = hs.list(x.resp.Header)
		resp.Body = x.respTap.body(&a.bodies[1])
		if x.respTap.eof {
			resp.Trailers = hs.list(x.resp.Trailer)
		}
	} else {
		x.respTap.release()
	}
	ex.Response = resp

	switch {
	case x.proto == rprpb.Protocol_PROTOCOL_GRPC:
		ex.Grpc = x.grpcResult(r.URL.Path)
		if x.msgs != nil {
			// The messages hold the bytes; the bodies keep only sizes, so
			// nothing is stored twice.
			req.Body = sizeOnly(req.Body, x.lossy(rprpb.Direction_DIRECTION_REQUEST))
			resp.Body = sizeOnly(resp.Body, x.lossy(rprpb.Direction_DIRECTION_RESPONSE))
		}
	case x.ws != nil:
		ex.Websocket = x.ws.result()
	}
	return &a.rec
}

// recordParts is every message of a plain HTTP record, allocated at once.
type recordParts struct {
	rec    rprpb.Record
	kind   rprpb.Record_Exchange
	ex     rprpb.Exchange
	req    rprpb.Request
	resp   rprpb.Response
	bodies [2]rprpb.Body
}

func sizeOnly(b *rprpb.Body, lossy bool) *rprpb.Body {
	if b == nil {
		return nil
	}
	b.Data, b.Truncated = nil, lossy
	return b
}

// emit stamps the session, redacts when the proxy was asked to, writes the
// record and counts it.
func (p *Proxy) emit(rec *rprpb.Record, x *exchange) {
	ex := rec.GetExchange()
	p.sessionOf(ex, x)
	if p.redactor != nil {
		p.redactor.Exchange(ex)
	}
	captured := capturedBytes(ex)
	p.capturedB.Add(captured)
	// The sink owns the record once it accepts it (the queue's consumer
	// redacts it concurrently), so take what the metrics need first.
	outcome := outcomeOf(ex)
	err := p.sink.Write(context.Background(), rec)
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

// smallHeaders is the most headers list sorts by insertion; a client may
// send thousands, and those get an O(n log n) sort.
const smallHeaders = 24

// headerSlab hands out the header lists of one record from a single
// allocation of Header messages and one of pointers to them.
type headerSlab struct {
	hs  []rprpb.Header
	ptr []*rprpb.Header
}

func (s *headerSlab) grow(n int) {
	if n > 0 {
		s.hs = make([]rprpb.Header, n)
		s.ptr = make([]*rprpb.Header, n)
	}
}

// list converts a header map to the record's list, sorted by name. The value
// slices are shared with h, which the caller must no longer modify.
func (s *headerSlab) list(h http.Header) []*rprpb.Header {
	n := len(h)
	if n == 0 {
		return nil
	}
	if n > len(s.hs) {
		s.grow(n) // the map grew since it was counted; cannot happen once sealed
	}
	hs, out := s.hs[:n:n], s.ptr[:n:n]
	s.hs, s.ptr = s.hs[n:], s.ptr[n:]
	if n > smallHeaders {
		// Many headers: sort the names, then fill in that order.
		names := make([]string, 0, n)
		for k := range h {
			names = append(names, k)
		}
		slices.Sort(names)
		for i, k := range names {
			hs[i].Name, hs[i].Values = k, h[k]
		}
	} else {
		i := 0
		for k, v := range h {
			hs[i].Name, hs[i].Values = k, v
			i++
		}
		// Insertion sort of a few headers in place spares a slice of names.
		for i := 1; i < n; i++ {
			for j := i; j > 0 && hs[j].Name < hs[j-1].Name; j-- {
				hs[j].Name, hs[j-1].Name = hs[j-1].Name, hs[j].Name
				hs[j].Values, hs[j-1].Values = hs[j-1].Values, hs[j].Values
			}
		}
	}
	for i := range hs {
		out[i] = &hs[i]
	}
	return out
}
