package protocol

import (
	"net/http"
	"sort"
	"sync"

	"github.com/reprise-dev/reprise/extensions"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// Namespace is the extension namespace codecs register in.
const Namespace = "protocols"

// RequestInfo is what a codec may look at to claim a request.
type RequestInfo struct {
	ProtoMajor int
	TLS        bool
	Header     http.Header
}

// Codec knows one wire protocol.
type Codec interface {
	extensions.Extension
	// Protocol is the recording's name for exchanges this codec claims.
	Protocol(req RequestInfo) rprpb.Protocol
	// Match reports whether the codec claims the request.
	Match(req RequestInfo) bool
	// Priority orders matching: higher is tried first, so that specific
	// protocols (gRPC) win over general ones (HTTP).
	Priority() int
	// NewSplitter returns an incremental splitter for one direction of a
	// body captured on its own (an import). A nil Splitter means the body is
	// kept whole as bytes.
	NewSplitter(dir rprpb.Direction, limits Limits) Splitter
	// Join encodes the messages of one direction back into a body.
	Join(msgs []*rprpb.Message) []byte
}

// The live capture of an exchange (the recording proxy) asks a codec where
// its messages travel through one of these optional one-method interfaces.
// Both directions of one exchange share a Capture, so that their messages
// are listed in wire order and draw on one byte budget.
type (
	// BodySplitter is implemented by codecs whose request and response
	// bodies are message streams (gRPC).
	BodySplitter interface {
		SplitBody(c *Capture, dir rprpb.Direction) Splitter
	}
	// UpgradeSplitter is implemented by codecs whose messages travel over
	// the connection once the upstream answered 101 Switching Protocols
	// (WebSocket). It returns nil when the response negotiated something
	// that keeps messages from being read one by one (a compression
	// extension): the bytes are then only counted.
	UpgradeSplitter interface {
		SplitUpgrade(c *Capture, dir rprpb.Direction, respHeader http.Header) Splitter
	}
)

// Limits bound what a splitter keeps. Zero values mean no limit.
type Limits struct {
	// MessageCap is the most bytes kept of one message.
	MessageCap int
	// TotalCap is the most message bytes kept over the whole body, or over
	// the whole exchange when its directions share a Capture.
	TotalCap int
	// MaxMessages is the most messages listed; later ones are counted in
	// SplitStats but not listed, and the Capture reports Overflow.
	MaxMessages int
	// SizesOnly keeps no message bytes at all, only sizes.
	SizesOnly bool
}

// Splitter cuts a byte stream into messages as it flows.
type Splitter interface {
	// Write feeds the next bytes, seen at atNs.
	Write(p []byte, atNs int64)
	// Messages returns the messages listed so far in wire order: with a
	// shared Capture, both directions'. A message is listed once its header
	// is complete, so the last one may still be filling; Close tells. The
	// splitter keeps ownership until Close.
	Messages() []*rprpb.Message
	// Close reports whether the stream ended cleanly on a message boundary.
	Close() error
	// Stats says what the splitter has seen so far.
	Stats() SplitStats
}

// SplitStats is what a Splitter has seen of its direction.
type SplitStats struct {
	// Messages counts the messages begun, listed or not.
	Messages int
	// Lossy is set when some message was truncated or not listed, or the
	// framing broke: the messages do not hold every byte.
	Lossy bool
	// Broken is set when the bytes stopped following the protocol's
	// framing; the splitter ignores everything after that point.
	Broken bool
}

var (
	mu     sync.Mutex
	cached []Codec
	count  int
)

// Codecs returns the registered codecs, highest priority first.
func Codecs() []Codec {
	infos := extensions.List(Namespace)
	mu.Lock()
	defer mu.Unlock()
	if cached != nil && count == len(infos) {
		return cached
	}
	out := make([]Codec, 0, len(infos))
	for _, info := range infos {
		if c, ok := info.New().(Codec); ok {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Priority() > out[j].Priority() })
	cached, count = out, len(infos)
	return out
}

// Resolve returns the codec that claims the request, or nil when none does.
// It reads the registry on every call; a caller that resolves per request
// takes a Resolver once instead.
func Resolve(req RequestInfo) Codec { return NewResolver().Resolve(req) }

// Resolver is a snapshot of the registered codecs, highest priority first.
// Codecs registered after it was taken are not in it; registration happens
// in init functions, so a snapshot taken once the program runs has them all.
type Resolver []Codec

// NewResolver takes a snapshot of the registered codecs.
func NewResolver() Resolver { return Resolver(Codecs()) }

// Resolve returns the codec that claims the request, or nil when none does.
func (r Resolver) Resolve(req RequestInfo) Codec {
	for _, c := range r {
		if c.Match(req) {
			return c
		}
	}
	return nil
}
