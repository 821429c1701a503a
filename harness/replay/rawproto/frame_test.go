package rawproto_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/compose/proto/platform"
	"github.com/reprise-dev/reprise/harness/replay/rawproto"
)

func TestFrameRoundTripsAStream(t *testing.T) {
	a := marshal(t, &platform.BuyRequest{Player: "p", ItemId: 1})
	b := []byte{0x1f, 0x8b, 0x08} // a compressed body, opaque here
	stream := append(rawproto.Frame(a, false), rawproto.Frame(b, true)...)
	assert.Equal(t, []byte{0, 0, 0, 0, byte(len(a))}, stream[:5])

	msg, compressed, rest, err := rawproto.Unframe(stream)
	require.NoError(t, err)
	assert.Equal(t, a, msg)
	assert.False(t, compressed)
	msg, compressed, rest, err = rawproto.Unframe(rest)
	require.NoError(t, err)
	assert.Equal(t, b, msg)
	assert.True(t, compressed)
	assert.Empty(t, rest)

	msg, _, rest, err = rawproto.Unframe(rawproto.Frame(nil, false))
	require.NoError(t, err)
	assert.Empty(t, msg)
	assert.Empty(t, rest)
}

func TestUnframeRejectsDamage(t *testing.T) {
	for name, tc := range map[string]struct {
		in   []byte
		text string
	}{
		"short prefix": {[]byte{0, 0, 0}, "cut off at byte 3"},
		"bad flag":     {[]byte{2, 0, 0, 0, 0}, "flag 2 at byte 0"},
		"cut message":  {[]byte{0, 0, 0, 0, 4, 'a'}, "message of 4 bytes cut off at byte 6"},
		"huge length":  {[]byte{0, 0xff, 0xff, 0xff, 0xff}, "4294967295 bytes"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, _, err := rawproto.Unframe(tc.in)
			require.ErrorIs(t, err, rawproto.ErrBadFrame)
			assert.Contains(t, err.Error(), tc.text)
		})
	}
}

func TestReplaceFrame(t *testing.T) {
	in := rawproto.Frame(marshal(t, &platform.BuyResponse{OrderId: "ord-1", ItemId: 3}), false)
	out, err := rawproto.ReplaceFrame(in, "1", 0, "ord-1", "ord-12345")
	require.NoError(t, err)
	msg, compressed, rest, err := rawproto.Unframe(out)
	require.NoError(t, err)
	assert.False(t, compressed)
	assert.Empty(t, rest)
	got := &platform.BuyResponse{}
	require.NoError(t, proto.Unmarshal(msg, got))
	assert.True(t, proto.Equal(&platform.BuyResponse{OrderId: "ord-12345", ItemId: 3}, got))

	_, err = rawproto.ReplaceFrame(rawproto.Frame(msg, true), "1", 0, "ord-12345", "x")
	assert.ErrorIs(t, err, rawproto.ErrCompressed)
	_, err = rawproto.ReplaceFrame(append(out, 0), "1", 0, "ord-12345", "x")
	assert.ErrorIs(t, err, rawproto.ErrBadFrame)
	_, err = rawproto.ReplaceFrame(out[:3], "1", 0, "ord-12345", "x")
	assert.ErrorIs(t, err, rawproto.ErrBadFrame)
}
