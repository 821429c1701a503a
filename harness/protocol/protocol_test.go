package protocol_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/extensions"
	_ "github.com/reprise-dev/reprise/extensions/standard"
	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

func msg(size int64) *rprpb.Message { return &rprpb.Message{Size: size} }

func TestCaptureLimits(t *testing.T) {
	c := protocol.NewCapture(protocol.Limits{MessageCap: 10, TotalCap: 25, MaxMessages: 4})
	var keeps []int64
	for _, size := range []int64{4, 30, 30, 30, 1} {
		keeps = append(keeps, c.Begin(msg(size)))
	}
	assert.Equal(t, []int64{4, 10, 10, 1, -1}, keeps, "message cap, then the total, then MaxMessages")
	require.Len(t, c.Messages(), 4)
	assert.False(t, c.Messages()[0].Truncated)
	assert.True(t, c.Messages()[1].Truncated)
	assert.True(t, c.Overflow())
}

func TestCaptureZeroMeansNoLimitButSizesOnlyKeepsNothing(t *testing.T) {
	c := protocol.NewCapture(protocol.Limits{})
	assert.EqualValues(t, 1<<40, c.Begin(msg(1<<40)))
	assert.False(t, c.Overflow())
	c = protocol.NewCapture(protocol.Limits{MessageCap: 10, SizesOnly: true})
	m := msg(5)
	assert.Zero(t, c.Begin(m))
	assert.True(t, m.Truncated)
	assert.Zero(t, c.Begin(msg(0)))
	assert.False(t, c.Messages()[1].Truncated, "an empty message loses nothing")
}

func TestKeepStopsAtItsShare(t *testing.T) {
	m := msg(10)
	protocol.Keep(m, 6, []byte("abcd"))
	protocol.Keep(m, 6, []byte("efgh"))
	protocol.Keep(m, 6, []byte("ij"))
	assert.Equal(t, "abcdef", string(m.Data))
	m = msg(3)
	protocol.Keep(m, 0, []byte("abc"))
	assert.Nil(t, m.Data)
}

func TestResolverOrdersByPriority(t *testing.T) {
	r := protocol.NewResolver()
	var ids []extensions.ID
	for _, c := range r {
		ids = append(ids, c.ExtensionInfo().ID)
	}
	require.GreaterOrEqual(t, len(ids), 3)
	assert.Equal(t, []extensions.ID{"protocols.grpc", "protocols.websocket", "protocols.http"}, ids[len(ids)-3:],
		"specific codecs first, the HTTP fallback last")
	for i := 1; i < len(r); i++ {
		assert.GreaterOrEqual(t, r[i-1].Priority(), r[i].Priority())
	}
	grpc := protocol.RequestInfo{ProtoMajor: 2, Header: http.Header{"Content-Type": {"application/grpc"}}}
	assert.Equal(t, extensions.ID("protocols.grpc"), r.Resolve(grpc).ExtensionInfo().ID)
	assert.Equal(t, r.Resolve(grpc).ExtensionInfo().ID, protocol.Resolve(grpc).ExtensionInfo().ID)
	assert.Nil(t, protocol.Resolver(nil).Resolve(grpc))
}
