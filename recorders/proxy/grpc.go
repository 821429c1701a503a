package proxy

import (
	"encoding/binary"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// grpcCapture splits both directions of a gRPC call into its length-prefixed
// messages as they stream through. Guarded by the exchange's mu.
type grpcCapture struct {
	req, resp grpcFramer
	msgs      []*rprpb.Message
	overflow  bool // more messages than MaxMessages: the list is incomplete
}

// grpcFramer is an incremental parser of the gRPC wire framing: a 1-byte
// compressed flag, a 4-byte big-endian length, then the message. Bytes may
// arrive split anywhere.
type grpcFramer struct {
	hdr    [5]byte
	hn     int            // header bytes held
	need   int64          // message bytes still to come
	cur    *rprpb.Message // the message being filled; nil when not listed
	count  int            // messages seen
	broken bool           // not gRPC framing: stop parsing this direction
	lossy  bool           // some message was truncated or not listed
}

func (g *grpcCapture) framer(dir rprpb.Direction) *grpcFramer {
	if dir == rprpb.Direction_DIRECTION_REQUEST {
		return &g.req
	}
	return &g.resp
}

// feed parses b, appending each message to msgs when its prefix completes,
// so messages of both directions are listed in the order they crossed.
func (g *grpcCapture) feed(x *exchange, dir rprpb.Direction, b []byte, now time.Duration) {
	f := g.framer(dir)
	for len(b) > 0 && !f.broken {
		if f.need == 0 && f.hn < len(f.hdr) {
			k := copy(f.hdr[f.hn:], b)
			f.hn += k
			b = b[k:]
			if f.hn < len(f.hdr) {
				return
			}
			f.hn = 0
			if f.hdr[0] > 1 {
				// Only 0 and 1 are defined; anything else means this is
				// not a gRPC stream, and guessing further would be noise.
				f.broken, f.lossy = true, true
				return
			}
			size := int64(binary.BigEndian.Uint32(f.hdr[1:]))
			f.count++
			f.need = size
			f.cur = nil
			if x.p.maxMessages > 0 && len(g.msgs) >= x.p.maxMessages {
				g.overflow, f.lossy = true, true
				continue
			}
			m := &rprpb.Message{Direction: dir, AtNs: int64(now), Compressed: f.hdr[0] == 1, Size: size}
			if n := x.take(size); n > 0 {
				m.Data = make([]byte, 0, n)
			}
			m.Truncated = int64(cap(m.Data)) < size
			if m.Truncated {
				f.lossy = true
			}
			g.msgs = append(g.msgs, m)
			if size > 0 {
				f.cur = m
			}
			continue
		}
		k := int64(len(b))
		if k > f.need {
			k = f.need
		}
		if m := f.cur; m != nil {
			if room := int64(cap(m.Data) - len(m.Data)); room > 0 {
				m.Data = append(m.Data, b[:min(k, room)]...)
			}
		}
		f.need -= k
		b = b[k:]
		if f.need == 0 {
			f.cur = nil
		}
	}
}

// result fills the call's summary. Call after sealing.
func (g *grpcCapture) result(fullMethod string, resp *http.Response, respEOF bool, proxyStatus int) *rprpb.Grpc {
	out := &rprpb.Grpc{FullMethod: fullMethod, Messages: g.msgs, Kind: inferKind(g.req.count, g.resp.count)}
	code, msg, ok := "", "", false
	if resp != nil {
		// Trailers are complete only once the body hit EOF; a
		// trailers-only response carries the status in its headers.
		if respEOF {
			code, msg, ok = grpcStatus(resp.Trailer)
		}
		if !ok {
			code, msg, ok = grpcStatus(resp.Header)
		}
	}
	switch {
	case ok:
		n, err := strconv.ParseInt(code, 10, 32)
		if err != nil {
			n = int64(codes.Unknown)
			msg = "malformed grpc-status " + strconv.Quote(code)
		}
		out.StatusCode, out.StatusMessage = int32(n), decodeGRPCMessage(msg)
	case proxyStatus != 0:
		out.StatusCode = int32(httpToGRPC(proxyStatus))
	case resp != nil && resp.StatusCode != http.StatusOK:
		out.StatusCode = int32(httpToGRPC(resp.StatusCode))
	default:
		// No status reached the client: the call was cut short.
		out.StatusCode = int32(codes.Unknown)
	}
	return out
}

func grpcStatus(h http.Header) (code, msg string, ok bool) {
	v, ok := h["Grpc-Status"]
	if !ok || len(v) == 0 {
		return "", "", false
	}
	return v[0], h.Get("Grpc-Message"), true
}

// inferKind guesses the call kind from the messages each way. A streaming
// call that carried one message each way reads as unary; only a schema could
// tell it apart.
func inferKind(reqs, resps int) rprpb.CallKind {
	switch {
	case reqs > 1 && resps > 1:
		return rprpb.CallKind_CALL_KIND_BIDI_STREAMING
	case reqs > 1:
		return rprpb.CallKind_CALL_KIND_CLIENT_STREAMING
	case resps > 1:
		return rprpb.CallKind_CALL_KIND_SERVER_STREAMING
	}
	return rprpb.CallKind_CALL_KIND_UNARY
}

// httpToGRPC is the mapping gRPC clients apply when a response has no
// grpc-status (gRPC's http-grpc-status-mapping.md), so the record says what
// the client saw.
func httpToGRPC(status int) codes.Code {
	switch status {
	case http.StatusBadRequest:
		return codes.Internal
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound:
		return codes.Unimplemented
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return codes.Unavailable
	}
	return codes.Unknown
}

// decodeGRPCMessage undoes the percent-encoding of grpc-message. Malformed
// escapes are kept as they are, as gRPC implementations do.
func decodeGRPCMessage(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// grpcCode names a gRPC status code for metric labels.
func grpcCode(n int32) string { return codes.Code(n).String() }
