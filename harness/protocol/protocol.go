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
	// NewSplitter returns an incremental splitter for one direction of a body.
	// A nil Splitter means the body is kept whole as bytes.
	NewSplitter(dir rprpb.Direction, limits Limits) Splitter
	// Join encodes the messages of one direction back into a body.
	Join(msgs []*rprpb.Message) []byte
}

// Limits bound what a splitter keeps.
type Limits struct {
	// MessageCap is the most bytes kept of one message.
	MessageCap int
	// TotalCap is the most message bytes kept over the whole body.
	TotalCap int
}

// Splitter cuts a byte stream into messages as it flows.
type Splitter interface {
	// Write feeds the next bytes, seen at atNs.
	Write(p []byte, atNs int64)
	// Messages returns the complete messages so far. The splitter keeps
	// ownership until Close.
	Messages() []*rprpb.Message
	// Close reports whether the stream ended cleanly on a message boundary.
	Close() error
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
func Resolve(req RequestInfo) Codec {
	for _, c := range Codecs() {
		if c.Match(req) {
			return c
		}
	}
	return nil
}
