package cat_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/jsonl"
	"github.com/reprise-dev/reprise/harness/recording/jsonl/jsonltest"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/internal/cli"
	"github.com/reprise-dev/reprise/internal/cmd/cat"
)

var update = flag.Bool("update", false, "rewrite the golden files")

type result struct {
	out, errOut string
	code        int
	err         error
}

func runCat(t *testing.T, ctx context.Context, stdin []byte, args ...string) result {
	t.Helper()
	ios, in, out, errOut := cli.Test()
	in.Write(stdin)
	cmd := cat.NewCmdCat(ios)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.ExecuteContext(ctx)
	return result{out: out.String(), errOut: errOut.String(), code: cli.ExitCode(err), err: err}
}

func fixture(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fixture.rpr")
	jsonltest.Write(t, path)
	return path
}

// The verb's JSON Lines are exactly the interchange format, and they decode
// back to the records and header of the file.
func TestJSONLIsTheInterchange(t *testing.T) {
	res := runCat(t, context.Background(), nil, fixture(t))
	require.NoError(t, res.err)
	assert.Empty(t, res.errOut)
	want, err := os.ReadFile("../../../harness/recording/jsonl/testdata/cat.golden.jsonl")
	require.NoError(t, err)
	assert.Equal(t, string(want), res.out)

	dec := jsonl.NewDecoder(strings.NewReader(res.out))
	hdr, err := dec.Header()
	require.NoError(t, err)
	assert.True(t, proto.Equal(jsonltest.Header(), hdr))
	for i, want := range jsonltest.Records() {
		got, err := dec.Next()
		require.NoError(t, err)
		require.True(t, proto.Equal(want, got), "record %d", i)
	}
	_, err = dec.Next()
	assert.ErrorIs(t, err, io.EOF)
}

func TestSummaryGolden(t *testing.T) {
	res := runCat(t, context.Background(), nil, "--format", "summary", fixture(t))
	require.NoError(t, res.err)
	golden := filepath.Join("testdata", "summary.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(res.out), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), res.out)
	assert.Len(t, strings.Split(strings.TrimSpace(res.out), "\n"), len(jsonltest.Records()), "one line per record")
}

// A result record gets its own human line: intended time, session, method
// and route, outcome, latency from the intended time, the exchange replayed.
func TestSummaryResultLine(t *testing.T) {
	var buf bytes.Buffer
	hdr := &rprpb.FileHeader{FormatVersion: 1, Clock: &rprpb.Clock{AnchorUnixNano: jsonltest.Anchor}}
	w, err := recording.NewWriter(&buf, hdr)
	require.NoError(t, err)
	results := []*rprpb.Result{
		{
			ExchangeId: 12, Clone: 3, Session: "player-9", Method: "GET", Route: "/v1/items/{id}",
			IntendedNs: 2_000_000_000, SentNs: 2_004_000_000, DoneNs: 2_010_500_000, Status: 404, GrpcStatus: -1,
		},
		{ExchangeId: 13, Session: "player-9", Method: "POST", Route: "/shop.Shop/Buy", IntendedNs: 2_100_000_000, DoneNs: 2_100_700_000, Status: 200, GrpcStatus: 14},
		{ExchangeId: 14, IntendedNs: 3_000_000_000, GrpcStatus: -1, Dropped: true},
	}
	for _, r := range results {
		require.NoError(t, w.Write(&rprpb.Record{Kind: &rprpb.Record_Result{Result: r}}))
	}
	require.NoError(t, w.Close())

	res := runCat(t, context.Background(), buf.Bytes(), "--format", "summary", "-")
	require.NoError(t, res.err)
	assert.Empty(t, res.errOut)
	assert.Equal(t, ""+
		"2026-03-01T09:30:02.000Z player-9 GET /v1/items/{id} → 404 10.5ms (replay of #12, clone 3)\n"+
		"2026-03-01T09:30:02.100Z player-9 POST /shop.Shop/Buy → 200 grpc Unavailable 700µs (replay of #13)\n"+
		"2026-03-01T09:30:03.000Z - - - → dropped - (replay of #14)\n", res.out)
}

func TestStdin(t *testing.T) {
	data, err := os.ReadFile(fixture(t))
	require.NoError(t, err)
	res := runCat(t, context.Background(), data, "--format", "summary", "-")
	require.NoError(t, res.err)
	assert.Contains(t, res.out, "2026-03-01T09:30:00.001Z player-42 POST /v1/login?next=%2Fhome&lang=fr → 200 2.65ms\n")
}

// writeN writes n small exchanges in blocks of a few records each.
func writeN(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := recording.NewWriter(&buf, nil, recording.BlockSize(400))
	require.NoError(t, err)
	for i := 0; i < n; i++ {
		require.NoError(t, w.Write(&rprpb.Record{Kind: &rprpb.Record_Exchange{Exchange: &rprpb.Exchange{
			Id: uint64(i), Session: "s", StartNs: int64(i) * 1e6, EndNs: int64(i)*1e6 + 10e3,
			Request:  &rprpb.Request{Method: "GET", Path: "/x"},
			Response: &rprpb.Response{Status: 200},
		}}}))
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func summaryLines(out string) int { return strings.Count(out, "\n") }

func TestTruncatedFile(t *testing.T) {
	data := writeN(t, 100)
	cut := data[:len(data)*2/3]
	path := filepath.Join(t.TempDir(), "cut.rpr")
	require.NoError(t, os.WriteFile(path, cut, 0o600))

	res := runCat(t, context.Background(), nil, "--format", "summary", path)
	require.NoError(t, res.err, "a truncated file is not a failure without --strict")
	printed := summaryLines(res.out)
	assert.Greater(t, printed, 40)
	assert.Less(t, printed, 100)
	assert.Regexp(t, `^reprise cat: warning: .*cut\.rpr is truncated at byte \d+ after `+strconv.Itoa(printed)+` records \(.*\); every record before it was printed\n$`, res.errOut)

	strict := runCat(t, context.Background(), nil, "--format", "summary", "--strict", path)
	assert.Equal(t, cli.ExitBadInput, strict.code)
	assert.Equal(t, res.out, strict.out, "--strict still prints everything that survived")
	assert.Contains(t, strict.err.Error(), "cut.rpr is damaged")

	// An unclosed file (every block intact, no end marker) is reported too.
	unclosed := data[:bytes.LastIndex(data, []byte("RPRE"))]
	res = runCat(t, context.Background(), unclosed, "--format", "summary", "-")
	require.NoError(t, res.err)
	assert.Equal(t, 100, summaryLines(res.out))
	assert.Contains(t, res.errOut, "stdin is truncated at byte")
	assert.Contains(t, res.errOut, "after 100 records")
	assert.Contains(t, res.errOut, "no end marker")
}

func TestCorruptBlocksAreSkipped(t *testing.T) {
	data := writeN(t, 200)
	// Damage two blocks far apart.
	data[len(data)/3] ^= 0xff
	data[len(data)*2/3] ^= 0xff
	res := runCat(t, context.Background(), data, "--format", "summary", "-")
	require.NoError(t, res.err)
	warnings := strings.Count(res.errOut, "skipping to the next intact block")
	assert.Equal(t, 2, warnings, res.errOut)
	assert.Contains(t, res.errOut, "stdin: byte ")
	assert.Contains(t, res.errOut, "2 damaged block(s) skipped")
	printed := summaryLines(res.out)
	assert.Greater(t, printed, 150)
	assert.Less(t, printed, 200)
	assert.True(t, strings.HasSuffix(res.out, "1970-01-01T00:00:00.199Z s GET /x → 200 10µs\n"), "the records after the damage are printed")

	strict := runCat(t, context.Background(), data, "--strict", "-")
	assert.Equal(t, cli.ExitBadInput, strict.code)
}

func TestNotARecording(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	require.NoError(t, os.WriteFile(path, []byte("hello, world\n"), 0o600))
	res := runCat(t, context.Background(), nil, path)
	assert.Equal(t, cli.ExitBadInput, res.code)
	assert.ErrorIs(t, res.err, recording.ErrNotRecording)
	assert.Contains(t, res.err.Error(), "notes.txt")
	assert.Contains(t, res.err.Error(), "not a reprise recording")
	assert.Empty(t, res.out)
}

func TestBadUsage(t *testing.T) {
	missing := runCat(t, context.Background(), nil, filepath.Join(t.TempDir(), "nope.rpr"))
	assert.Equal(t, cli.ExitBadInput, missing.code)
	assert.Contains(t, missing.err.Error(), "nope.rpr")

	format := runCat(t, context.Background(), nil, "--format", "yaml", fixture(t))
	assert.Equal(t, cli.ExitBadInput, format.code)
	assert.Contains(t, format.err.Error(), `--format "yaml": want jsonl or summary`)
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := runCat(t, ctx, nil, fixture(t))
	assert.True(t, errors.Is(res.err, context.Canceled))
	assert.Equal(t, cli.ExitInterrupted, res.code)
}

func TestHelp(t *testing.T) {
	ios, _, out, _ := cli.Test()
	cmd := cat.NewCmdCat(ios)
	cmd.SetArgs([]string{"--help"})
	cmd.SetOut(out)
	require.NoError(t, cmd.Execute())
	assert.Contains(t, out.String(), "reprise cat tester.rpr | jq")
	assert.Contains(t, out.String(), "--strict")
}
