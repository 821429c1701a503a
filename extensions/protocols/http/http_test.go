package http_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	httpcodec "github.com/reprise-dev/reprise/extensions/protocols/http"
	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

func TestClaimsEverythingAndNamesTheVersion(t *testing.T) {
	c := httpcodec.Codec{}
	for _, r := range []protocol.RequestInfo{{}, {ProtoMajor: 2, Header: http.Header{"Content-Type": {"application/grpc"}}}} {
		assert.True(t, c.Match(r))
	}
	assert.Equal(t, rprpb.Protocol_PROTOCOL_HTTP1, c.Protocol(protocol.RequestInfo{ProtoMajor: 1}))
	assert.Equal(t, rprpb.Protocol_PROTOCOL_H2C, c.Protocol(protocol.RequestInfo{ProtoMajor: 2}))
	assert.Equal(t, rprpb.Protocol_PROTOCOL_H2, c.Protocol(protocol.RequestInfo{ProtoMajor: 2, TLS: true}))
	assert.Zero(t, c.Priority())
	assert.Nil(t, c.NewSplitter(rprpb.Direction_DIRECTION_REQUEST, protocol.Limits{}), "bodies stay whole")
	assert.Equal(t, []byte("ab"), c.Join([]*rprpb.Message{{Data: []byte("a")}, {Data: []byte("b")}}))
}
