package http

import (
	"github.com/reprise-dev/reprise/extensions"
	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

func init() { extensions.Register(Codec{}) }

// Codec claims every request; it is the fallback of lowest priority.
type Codec struct{}

// ExtensionInfo registers the codec.
func (Codec) ExtensionInfo() extensions.Info {
	return extensions.Info{
		ID:      "protocols.http",
		New:     func() extensions.Extension { return Codec{} },
		Summary: "HTTP/1.1, h2c and HTTP/2 over TLS; bodies kept whole",
	}
}

// Protocol names the HTTP version the request arrived with.
func (Codec) Protocol(req protocol.RequestInfo) rprpb.Protocol {
	switch {
	case req.ProtoMajor < 2:
		return rprpb.Protocol_PROTOCOL_HTTP1
	case req.TLS:
		return rprpb.Protocol_PROTOCOL_H2
	}
	return rprpb.Protocol_PROTOCOL_H2C
}

// Match claims everything.
func (Codec) Match(protocol.RequestInfo) bool { return true }

// Priority is the lowest: every other codec is tried first.
func (Codec) Priority() int { return 0 }

// NewSplitter returns nil: HTTP bodies are not split.
func (Codec) NewSplitter(rprpb.Direction, protocol.Limits) protocol.Splitter { return nil }

// Join concatenates the messages' bytes.
func (Codec) Join(msgs []*rprpb.Message) []byte {
	var out []byte
	for _, m := range msgs {
		out = append(out, m.GetData()...)
	}
	return out
}

var _ protocol.Codec = Codec{}
