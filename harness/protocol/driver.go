package protocol

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/url"
	"time"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// Driver is implemented by codecs that can replay their protocol's
// exchanges. The replayer looks the driver up in the codec registry by the
// recorded protocol (see DriverFor) and dials one Conn per recorded client
// connection, so the target sees connections opened and reused the way the
// recording did.
type Driver interface {
	// Replays reports whether the driver replays exchanges recorded as p.
	Replays(p rprpb.Protocol) bool
	// Dial prepares a client for one recorded connection. It must not do
	// I/O: connecting is part of the first call's service time.
	Dial(t Target) (Conn, error)
}

// Target is where and how a driver connects.
type Target struct {
	// URL is the http(s) base URL of the target; its path prefixes every
	// replayed path.
	URL *url.URL
	// TLS is the client configuration for https targets; nil means defaults.
	TLS *tls.Config
	// Protocol is the recorded protocol of the connection's exchanges.
	Protocol rprpb.Protocol
	// MaxBody caps the response bytes a driver keeps of one body or of one
	// message; the rest is only counted. Zero means DefaultMaxBody.
	MaxBody int
}

// DefaultMaxBody is the response cap when Target.MaxBody is zero.
const DefaultMaxBody = 4 << 20

// Limit returns MaxBody or its default.
func (t Target) Limit() int {
	if t.MaxBody > 0 {
		return t.MaxBody
	}
	return DefaultMaxBody
}

// Conn replays the exchanges of one recorded connection. Do may be called
// concurrently (HTTP/2 multiplexes); Close is called once, after the last Do.
type Conn interface {
	Do(ctx context.Context, c *Call) (*Reply, error)
	Close() error
}

// Call is one exchange to replay, already rebuilt and substituted by the
// executor.
type Call struct {
	Protocol rprpb.Protocol
	Method   string
	// Path (with no query) and RawQuery are relative to the target URL. For
	// gRPC, Path is the full method "/pkg.Service/Method".
	Path, RawQuery string
	// Header holds the request headers (HTTP) or metadata (gRPC) and the
	// upgrade request's headers (WebSocket), with hop-by-hop headers removed.
	Header http.Header
	// Body is the HTTP request body.
	Body []byte
	// Messages are the client's gRPC messages or WebSocket frames, each
	// sent At after the call started (already divided by the replay speed).
	Messages []OutMessage
	// Kind is the recorded gRPC call kind: a guess from the number of
	// messages each way unless a schema told, so a driver should not
	// enforce it (the gRPC driver streams both ways whatever it says).
	Kind rprpb.CallKind
	// Hold keeps a WebSocket open this long after it started (the
	// recorded duration ÷ speed) unless either side closes first.
	Hold time.Duration
	// Clock returns the current offset from the run's start; every time a
	// driver reports comes from it.
	Clock func() time.Duration
	// Timeout bounds the call from when Do starts (a wait for the
	// connection counts) to the end of its response, besides any deadline
	// ctx has; 0 leaves ctx's alone. Where the caller would otherwise wrap
	// ctx per call, a context and a timer each time, a driver can set a
	// deadline on its socket instead; one that hands ctx on uses Bound.
	Timeout time.Duration
	// BodyBuf, when not nil, is room for the response body: a driver may
	// read the body into its array, which Reply.Body then shares. The
	// caller reuses it once done with the Reply, so that a body is not an
	// allocation per request; it reuses Reply.Body's array too, which may
	// be BodyBuf's grown or one the driver made. So a driver must not
	// return a body whose array it keeps or shares with anything else.
	BodyBuf []byte
	// OnMessage, when set, is called with each server message as it
	// arrives (index among the Reply's Messages), so a live value can be
	// captured before the stream ends. It must not block.
	OnMessage func(i int, m *rprpb.Message)
	// DiscardMessageData asks the driver to drop each server message's
	// Data once OnMessage has seen it (Size, AtNs and the flags stay), so
	// a long stream's bytes are not held until the call ends. The caller
	// then reads live values only in OnMessage.
	DiscardMessageData bool
}

// Bound returns ctx bounded by the call's Timeout, for a driver that
// passes a context on; cancel releases it.
func (c *Call) Bound(ctx context.Context) (bounded context.Context, cancel context.CancelFunc) {
	if c.Timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.Timeout)
}

// OutMessage is a client message to send.
type OutMessage struct {
	At   time.Duration
	Data []byte
	// Compressed is the recorded gRPC compressed flag. The replayer hands
	// gRPC drivers plain bytes (it decompresses them to substitute values),
	// so a driver sends them uncompressed.
	Compressed bool
	// Opcode is the WebSocket opcode (1 text, 2 binary, 0 continuation, 8
	// close; pings and pongs are left to the library).
	Opcode uint32
}

// Reply is what the target answered, and when. Times are Clock offsets.
type Reply struct {
	// Status is the HTTP status (101 for an accepted WebSocket); 0 when no
	// response came.
	Status int
	// GRPCStatus is the grpc-status code; -1 when the call is not gRPC.
	GRPCStatus  int32
	GRPCMessage string
	Header      http.Header
	Trailer     http.Header
	// Body is the response body as received (content coding kept), up to
	// the target's MaxBody; Size counts every byte, kept or not. For
	// message protocols Size is the sum of the message sizes.
	Body []byte
	Size int64
	// Messages are the server's gRPC messages (decompressed) or WebSocket
	// data frames, stamped with AtNs as Clock offsets, Direction RESPONSE.
	Messages []*rprpb.Message
	// Sent is when the request went out, FirstByte when the first response
	// byte (or headers) arrived, Done when the exchange ended.
	Sent, FirstByte, Done time.Duration
	// Notes say what the driver could not send as recorded (a header its
	// protocol refuses); the exchange still went out. They name what was
	// left out, never a value, which may be a secret.
	Notes []string
}

// DriverFor returns the registered driver that replays p, or nil.
func (r Resolver) DriverFor(p rprpb.Protocol) Driver {
	for _, c := range r {
		if d, ok := c.(Driver); ok && d.Replays(p) {
			return d
		}
	}
	return nil
}

// DriverFor returns the registered driver that replays p, or nil.
func DriverFor(p rprpb.Protocol) Driver { return NewResolver().DriverFor(p) }
