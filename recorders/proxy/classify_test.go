package proxy

import (
	"crypto/tls"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

func TestDecodeGRPCMessage(t *testing.T) {
	assert.Equal(t, "50% off ü", decodeGRPCMessage("50%25 off %C3%BC"))
	assert.Equal(t, "bad %zz", decodeGRPCMessage("bad %zz"))
	assert.Equal(t, "end %", decodeGRPCMessage("end %"))
}

func TestClassifyWithTheRegisteredCodecs(t *testing.T) {
	p := &Proxy{}
	p.codecs = protocol.NewResolver()
	for _, c := range []struct {
		name  string
		major int
		tls   bool
		h     http.Header
		want  rprpb.Protocol
		codec string
	}{
		{"http1", 1, false, http.Header{}, rprpb.Protocol_PROTOCOL_HTTP1, "protocols.http"},
		{"h2c", 2, false, http.Header{}, rprpb.Protocol_PROTOCOL_H2C, "protocols.http"},
		{"h2", 2, true, http.Header{}, rprpb.Protocol_PROTOCOL_H2, "protocols.http"},
		{"grpc", 2, false, http.Header{"Content-Type": {"application/grpc+proto"}}, rprpb.Protocol_PROTOCOL_GRPC, "protocols.grpc"},
		{"grpc-web is http", 2, true, http.Header{"Content-Type": {"application/grpc-web"}}, rprpb.Protocol_PROTOCOL_H2, "protocols.http"},
		{"websocket", 1, false, http.Header{"Upgrade": {"websocket"}}, rprpb.Protocol_PROTOCOL_WEBSOCKET, "protocols.websocket"},
	} {
		r := &http.Request{ProtoMajor: c.major, Header: c.h}
		if c.tls {
			r.TLS = &tls.ConnectionState{}
		}
		codec, proto := p.classify(r)
		assert.Equal(t, c.want, proto, c.name)
		assert.EqualValues(t, c.codec, codec.ExtensionInfo().ID, c.name)
	}

	// Without any codec the HTTP version still names the protocol.
	p.codecs = nil
	for major, want := range map[int]rprpb.Protocol{1: rprpb.Protocol_PROTOCOL_HTTP1, 2: rprpb.Protocol_PROTOCOL_H2C} {
		codec, proto := p.classify(&http.Request{ProtoMajor: major, Header: http.Header{}})
		assert.Nil(t, codec)
		assert.Equal(t, want, proto)
	}
}
