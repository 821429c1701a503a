package protocol_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/extensions"
	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

func TestDriverForEachProtocol(t *testing.T) {
	r := protocol.NewResolver()
	for p, id := range map[rprpb.Protocol]extensions.ID{
		rprpb.Protocol_PROTOCOL_HTTP1:     "protocols.http",
		rprpb.Protocol_PROTOCOL_H2C:       "protocols.http",
		rprpb.Protocol_PROTOCOL_H2:        "protocols.http",
		rprpb.Protocol_PROTOCOL_GRPC:      "protocols.grpc",
		rprpb.Protocol_PROTOCOL_WEBSOCKET: "protocols.websocket",
	} {
		d := r.DriverFor(p)
		require.NotNil(t, d, "%s", p)
		assert.Equal(t, id, d.(protocol.Codec).ExtensionInfo().ID, "%s", p)
	}
	assert.Nil(t, r.DriverFor(rprpb.Protocol(42)), "no driver for an unknown protocol")
	assert.Nil(t, protocol.Resolver(nil).DriverFor(rprpb.Protocol_PROTOCOL_HTTP1))
	assert.NotNil(t, protocol.DriverFor(rprpb.Protocol_PROTOCOL_GRPC))
}

func TestDialRefusesBadTargets(t *testing.T) {
	for _, p := range []rprpb.Protocol{rprpb.Protocol_PROTOCOL_HTTP1, rprpb.Protocol_PROTOCOL_GRPC, rprpb.Protocol_PROTOCOL_WEBSOCKET} {
		d := protocol.DriverFor(p)
		require.NotNil(t, d)
		_, err := d.Dial(protocol.Target{})
		assert.Error(t, err, "%s: no URL", p)
	}
}

func TestTargetLimit(t *testing.T) {
	assert.Equal(t, protocol.DefaultMaxBody, protocol.Target{}.Limit())
	assert.Equal(t, 10, protocol.Target{MaxBody: 10}.Limit())
}
