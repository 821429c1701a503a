package proxy_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/extensions"
	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/proxy/proxytest"
)

// lineCodec is a codec from outside the tree: it claims requests carrying
// X-Test-Codec: lines and splits their bodies at newlines. It names them
// gRPC only because that is where the schema keeps messages split from
// bodies.
type lineCodec struct{}

func init() { extensions.Register(lineCodec{}) }

func (lineCodec) ExtensionInfo() extensions.Info {
	return extensions.Info{ID: "protocols.proxytest_lines", New: func() extensions.Extension { return lineCodec{} }}
}
func (lineCodec) Protocol(protocol.RequestInfo) rprpb.Protocol { return rprpb.Protocol_PROTOCOL_GRPC }
func (lineCodec) Match(r protocol.RequestInfo) bool            { return r.Header.Get("X-Test-Codec") == "lines" }
func (lineCodec) Priority() int                                { return 1000 }
func (lineCodec) NewSplitter(rprpb.Direction, protocol.Limits) protocol.Splitter {
	return nil
}
func (lineCodec) Join(msgs []*rprpb.Message) []byte { return nil }
func (lineCodec) SplitBody(c *protocol.Capture, dir rprpb.Direction) protocol.Splitter {
	return &lineSplitter{c: c, dir: dir}
}

type lineSplitter struct {
	c     *protocol.Capture
	dir   rprpb.Direction
	stats protocol.SplitStats
}

func (s *lineSplitter) Write(p []byte, atNs int64) {
	for len(p) > 0 {
		line, rest, _ := bytes.Cut(p, []byte("\n"))
		m := &rprpb.Message{Direction: s.dir, AtNs: atNs, Size: int64(len(line))}
		if keep := s.c.Begin(m); keep >= 0 {
			protocol.Keep(m, keep, line)
		}
		s.stats.Messages++
		p = rest
	}
}
func (s *lineSplitter) Messages() []*rprpb.Message { return s.c.Messages() }
func (s *lineSplitter) Close() error               { return nil }
func (s *lineSplitter) Stats() protocol.SplitStats { return s.stats }

func TestRegisteredCodecClassifiesAndSplits(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Grpc-Status", "0")
		_, _ = w.Write([]byte("three\nfour"))
	}))
	defer up.Close()
	run := proxytest.StartRun(t, up.URL)
	req := newReq(t, "POST", run.URL+"/lines", strings.NewReader("one\ntwo"))
	req.Header.Set("X-Test-Codec", "lines")
	r := do(t, h1Client(t), req)
	require.Equal(t, "three\nfour", string(r.Body))
	do(t, h1Client(t), newReq(t, "GET", run.URL+"/plain", nil))

	exs := run.Stop()
	require.Len(t, exs, 2)
	lines, plain := exs[0], exs[1]
	if lines.Request.Path != "/lines" {
		lines, plain = plain, lines
	}
	assert.Equal(t, rprpb.Protocol_PROTOCOL_GRPC, lines.Protocol, "the registered codec claimed it")
	var got []string
	for _, m := range lines.Grpc.GetMessages() {
		got = append(got, m.Direction.String()+":"+string(m.Data))
	}
	assert.Equal(t, []string{"DIRECTION_REQUEST:one", "DIRECTION_REQUEST:two", "DIRECTION_RESPONSE:three", "DIRECTION_RESPONSE:four"}, got)
	assert.Empty(t, lines.Request.Body.GetData(), "the bytes live in the messages")
	assert.EqualValues(t, 7, lines.Request.Body.GetSize())
	assert.Equal(t, rprpb.CallKind_CALL_KIND_BIDI_STREAMING, lines.Grpc.Kind)
	assert.Equal(t, rprpb.Protocol_PROTOCOL_HTTP1, plain.Protocol)
}
