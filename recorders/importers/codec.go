package importers

import (
	"net/url"
	"strconv"

	// The importers classify exchanges with the same codecs as the proxy;
	// importing them here keeps an import independent of what else the
	// binary links.
	_ "github.com/reprise-dev/reprise/extensions/protocols/grpc"
	_ "github.com/reprise-dev/reprise/extensions/protocols/http"
	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// grpcStatusUnknown is the gRPC UNKNOWN code, given to calls whose capture
// holds no grpc-status (HAR has no trailers).
const grpcStatusUnknown = 2

// Classify sets ex.Protocol with the codec of harness/protocol that claims the
// request (the one the proxy would pick) and, for gRPC, splits the bodies
// into messages stamped reqAt (request) and respAt (response), in absolute
// Unix nanoseconds. Split bodies keep their size but not their bytes, which
// live in the messages; a body that ends inside a message keeps its bytes.
func Classify(ex *rprpb.Exchange, protoMajor int, tls bool, reqAt, respAt int64, bodyCap int) {
	info := protocol.RequestInfo{ProtoMajor: protoMajor, TLS: tls, Header: HTTPHeader(ex.GetRequest().GetHeaders())}
	codec := protocol.Resolve(info)
	if codec == nil {
		ex.Protocol = fallbackProtocol(protoMajor, tls)
		return
	}
	ex.Protocol = codec.Protocol(info)
	if ex.Protocol != rprpb.Protocol_PROTOCOL_GRPC {
		return
	}
	limits := protocol.Limits{MessageCap: bodyCap, TotalCap: bodyCap}
	g := &rprpb.Grpc{FullMethod: ex.GetRequest().GetPath()}
	var counts [3]int
	split := func(dir rprpb.Direction, b *rprpb.Body, at int64) {
		s := codec.NewSplitter(dir, limits)
		if s == nil || b == nil {
			return
		}
		s.Write(b.Data, at)
		msgs := s.Messages()
		g.Messages = append(g.Messages, msgs...)
		counts[dir] = len(msgs)
		if s.Close() == nil {
			b.Data = nil
		}
	}
	split(rprpb.Direction_DIRECTION_REQUEST, ex.GetRequest().GetBody(), reqAt)
	split(rprpb.Direction_DIRECTION_RESPONSE, ex.GetResponse().GetBody(), respAt)
	g.Kind = callKind(counts[rprpb.Direction_DIRECTION_REQUEST], counts[rprpb.Direction_DIRECTION_RESPONSE])
	g.StatusCode, g.StatusMessage = grpcStatus(ex.GetResponse())
	ex.Grpc = g
}

func fallbackProtocol(protoMajor int, tls bool) rprpb.Protocol {
	switch {
	case protoMajor < 2:
		return rprpb.Protocol_PROTOCOL_HTTP1
	case tls:
		return rprpb.Protocol_PROTOCOL_H2
	}
	return rprpb.Protocol_PROTOCOL_H2C
}

// callKind infers the kind from the number of messages each way, as the
// schema allows when no service schema is known.
func callKind(req, resp int) rprpb.CallKind {
	switch {
	case req <= 1 && resp <= 1:
		return rprpb.CallKind_CALL_KIND_UNARY
	case resp <= 1:
		return rprpb.CallKind_CALL_KIND_CLIENT_STREAMING
	case req <= 1:
		return rprpb.CallKind_CALL_KIND_SERVER_STREAMING
	}
	return rprpb.CallKind_CALL_KIND_BIDI_STREAMING
}

// grpcStatus reads grpc-status and grpc-message from the trailers, or from
// the headers of a trailers-only response.
func grpcStatus(resp *rprpb.Response) (int32, string) {
	if resp == nil {
		return grpcStatusUnknown, "import: no response captured"
	}
	for _, hs := range [][]*rprpb.Header{resp.GetTrailers(), resp.GetHeaders()} {
		v := HeaderValue(hs, "grpc-status")
		if v == "" {
			continue
		}
		code, err := strconv.ParseInt(v, 10, 32)
		if err != nil || code < 0 {
			return grpcStatusUnknown, "import: bad grpc-status " + strconv.Quote(v)
		}
		msg := HeaderValue(hs, "grpc-message")
		// grpc-message is percent-encoded on the wire.
		if m, err := url.PathUnescape(msg); err == nil {
			msg = m
		}
		return int32(code), msg
	}
	return grpcStatusUnknown, "import: grpc-status not captured"
}
