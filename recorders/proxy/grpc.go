package proxy

import (
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// grpcResult fills the call's summary from the split messages and the
// status the client saw. Call after sealing.
func (x *exchange) grpcResult(fullMethod string) *rprpb.Grpc {
	out := &rprpb.Grpc{FullMethod: fullMethod}
	if x.msgs != nil {
		out.Messages = x.msgs.Messages()
		out.Kind = inferKind(x.seen(rprpb.Direction_DIRECTION_REQUEST), x.seen(rprpb.Direction_DIRECTION_RESPONSE))
	} else {
		out.Kind = rprpb.CallKind_CALL_KIND_UNARY
	}
	code, msg, ok := "", "", false
	if resp := x.resp; resp != nil {
		// Trailers are complete only once the body hit EOF; a
		// trailers-only response carries the status in its headers.
		if x.respTap.eof {
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
	case x.status != 0:
		out.StatusCode = int32(httpToGRPC(x.status))
	case x.resp != nil && x.resp.StatusCode != http.StatusOK:
		out.StatusCode = int32(httpToGRPC(x.resp.StatusCode))
	default:
		// No status reached the client: the call was cut short.
		out.StatusCode = int32(codes.Unknown)
	}
	return out
}

// seen counts the messages one direction began, listed or not.
func (x *exchange) seen(dir rprpb.Direction) int {
	if s := x.split[dir]; s != nil {
		return s.Stats().Messages
	}
	return 0
}

// lossy reports that one direction's messages do not hold all its bytes.
func (x *exchange) lossy(dir rprpb.Direction) bool {
	if s := x.split[dir]; s != nil && s.Stats().Lossy {
		return true
	}
	return x.msgs != nil && x.msgs.Overflow()
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
	case StatusClientClosedRequest:
		return codes.Canceled
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
