package inspect_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/internal/cli"
	"github.com/reprise-dev/reprise/internal/cmd/inspect"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// anchor is a fixed wall clock so the output is deterministic.
var anchor = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

const ms = int64(time.Millisecond)

// sample is a small shop session: browsing, a contended purchase, a gRPC
// call, a WebSocket, a failed upstream and a truncated upload. Records are in
// completion order, as the recording proxy writes them.
func sample() []*rprpb.Exchange {
	var out []*rprpb.Exchange
	id := uint64(0)
	add := func(sess, method, path string, status int32, startMs, durMs int64) *rprpb.Exchange {
		id++
		e := &rprpb.Exchange{
			Id: id, Session: sess, SessionSource: "header:x-session", Protocol: rprpb.Protocol_PROTOCOL_HTTP1,
			StartNs: startMs * ms, FirstByteNs: (startMs + durMs/2) * ms, EndNs: (startMs + durMs) * ms,
			Request:  &rprpb.Request{Method: method, Path: path, Proto: "HTTP/1.1"},
			Response: &rprpb.Response{Status: status, Body: &rprpb.Body{Size: 180, Data: make([]byte, 180)}},
		}
		out = append(out, e)
		return e
	}
	// Eight seconds of browsing by three testers.
	for sec := range int64(8) {
		for k := range sec%3 + 1 {
			sess := fmt.Sprintf("tester-%d", k+1)
			add(sess, "GET", "/v1/items", 200, 200+sec*1000+k*90, 12)
			add(sess, "GET", fmt.Sprintf("/v1/items/%d", 100+sec), 200, 250+sec*1000+k*90, 8+k)
		}
	}
	// Three testers buy item 105 within a few milliseconds.
	for k := range int64(3) {
		status := int32(200)
		if k > 0 {
			status = 409
		}
		e := add(fmt.Sprintf("tester-%d", k+1), "POST", "/v1/items/105/buy", status, 5400+k*3, 40-k*5)
		e.Request.Body = &rprpb.Body{Size: 64, Data: make([]byte, 64)}
	}
	// A player's inventory and an order looked up by their IDs.
	add("tester-2", "GET", "/v1/players/3f2504e0-4f89-11d3-9a0c-0305e82c3301/inventory", 200, 3100, 25)
	add("tester-2", "GET", "/v1/orders/ord-20261127-0042", 404, 3300, 5)
	// A large upload, captured only in part.
	up := add("tester-3", "PUT", "/v1/players/3f2504e0-4f89-11d3-9a0c-0305e82c3301/avatar", 201, 6100, 300)
	up.Request.Body = &rprpb.Body{Size: 2 << 20, Data: make([]byte, 64<<10), Truncated: true}
	// The upstream failed twice.
	for k := range int64(2) {
		e := add("tester-1", "GET", "/v1/items/107", 502, 7300+k*200, 3)
		e.Error = "upstream: connection refused"
	}
	// A gRPC call with a NotFound status and a WebSocket.
	id++
	out = append(out, &rprpb.Exchange{
		Id: id, Session: "tester-1", Protocol: rprpb.Protocol_PROTOCOL_GRPC, StartNs: 4200 * ms, EndNs: 4215 * ms,
		Request:  &rprpb.Request{Method: "POST", Path: "/shop.v1.Inventory/GetItem", Proto: "HTTP/2.0"},
		Response: &rprpb.Response{Status: 200},
		Grpc: &rprpb.Grpc{FullMethod: "/shop.v1.Inventory/GetItem", Kind: rprpb.CallKind_CALL_KIND_UNARY, StatusCode: 5, Messages: []*rprpb.Message{
			{Direction: rprpb.Direction_DIRECTION_REQUEST, AtNs: 4201 * ms, Size: 12, Data: make([]byte, 12)},
		}},
	})
	id++
	out = append(out, &rprpb.Exchange{
		Id: id, Protocol: rprpb.Protocol_PROTOCOL_WEBSOCKET, StartNs: 900 * ms, EndNs: 7900 * ms,
		Request:   &rprpb.Request{Method: "GET", Path: "/v1/live"},
		Response:  &rprpb.Response{Status: 101},
		Websocket: &rprpb.WebSocket{BytesClientToServer: 40, BytesServerToClient: 9000},
	})
	// Completion order, not start order.
	for i := range out {
		j := (i * 7) % len(out)
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func writeSample(t *testing.T, path string) {
	t.Helper()
	w, err := recording.Create(path, &rprpb.FileHeader{
		CreatedUnixNano: anchor.UnixNano(),
		Recorder:        "reprise record test",
		Clock:           &rprpb.Clock{Source: "monotonic", AnchorUnixNano: anchor.UnixNano()},
	}, recording.BlockSize(1024))
	require.NoError(t, err)
	for _, e := range sample() {
		require.NoError(t, w.Write(&rprpb.Record{Kind: &rprpb.Record_Exchange{Exchange: e}}))
	}
	require.NoError(t, w.Close())
}

func runCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ios, _, out, errOut := cli.Test()
	cmd := inspect.NewCmdInspect(ios)
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	assert.Equal(t, string(want), got)
}

// inTempDir writes the sample into a temporary directory and moves there, so
// the file name in the report is stable. It returns the golden directory.
func inTempDir(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	t.Chdir(t.TempDir())
	writeSample(t, "sample.rpr")
	return wd
}

func TestGoldenText(t *testing.T) {
	wd := inTempDir(t)
	out, errOut, err := runCmd(t, "sample.rpr")
	require.NoError(t, err)
	assert.Empty(t, errOut)
	t.Chdir(wd)
	golden(t, "sample.txt", out)
}

func TestGoldenJSON(t *testing.T) {
	wd := inTempDir(t)
	out, errOut, err := runCmd(t, "--json", "--top", "5", "sample.rpr")
	require.NoError(t, err)
	assert.Empty(t, errOut)
	t.Chdir(wd)
	golden(t, "sample.json", out)
}

func TestTruncatedFileWarnsAndSucceeds(t *testing.T) {
	inTempDir(t)
	data, err := os.ReadFile("sample.rpr")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile("cut.rpr", data[:len(data)/2], 0o600))

	out, errOut, err := runCmd(t, "cut.rpr")
	require.NoError(t, err, "a damaged file is still inspected")
	assert.Equal(t, cli.ExitOK, cli.ExitCode(err))
	assert.Regexp(t, `^warning: cut\.rpr: truncated at byte \d+ \(after \d+ records\): .*the report covers what survived\n$`, errOut)
	assert.Regexp(t, `Complete:\s+NO: truncated at byte \d+`, out)
	assert.Contains(t, out, "Routes (top")

	out, _, err = runCmd(t, "--json", "cut.rpr")
	require.NoError(t, err)
	assert.Contains(t, out, `"complete": false`)
	assert.Contains(t, out, `"truncated": true`)
}

func TestBadInput(t *testing.T) {
	inTempDir(t)
	require.NoError(t, os.WriteFile("notes.txt", []byte("hello, not a recording"), 0o600))
	cases := map[string]struct {
		args []string
		msg  string
	}{
		"missing file":    {[]string{"nope.rpr"}, "nope.rpr"},
		"not a recording": {[]string{"notes.txt"}, "notes.txt: byte 0"},
		"no argument":     {nil, "want one recording file"},
		"two arguments":   {[]string{"a", "b"}, "want one recording file"},
		"bad top":         {[]string{"--top", "0", "sample.rpr"}, "--top must be at least 1"},
	}
	for name, c := range cases {
		_, _, err := runCmd(t, c.args...)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), c.msg, name)
		assert.Equal(t, cli.ExitBadInput, cli.ExitCode(err), name)
	}
}

func TestHelpHasExamples(t *testing.T) {
	out, _, err := runCmd(t, "--help")
	require.NoError(t, err)
	assert.Contains(t, out, "reprise inspect --json capture.rpr")
	assert.Contains(t, out, "--top")
}
