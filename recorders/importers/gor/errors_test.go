package gor_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/recorders/importers"
	"github.com/reprise-dev/reprise/recorders/importers/gor"
)

func TestMalformed(t *testing.T) {
	good := record(1, "ok", 0, "", get("/ok")) // 6 lines: the bad record starts on line 7
	ts := fmt.Sprint(t0)
	for _, c := range []struct {
		name, bad string
		want      string // the exact message
		limit     bool
	}{
		{"no header line", "hello\n" + get("/") + "\n🐵🙈🙉\n", `f.gor: line 7: header line "hello": want "TYPE ID TIMESTAMP_NS [LATENCY_NS]"`, false},
		{"too many fields", "1 a " + ts + " 1 2\n" + get("/") + "\n🐵🙈🙉\n", `f.gor: line 7: header line "1 a ` + ts + ` 1 2": want "TYPE ID TIMESTAMP_NS [LATENCY_NS]"`, false},
		{"unknown type", "4 a " + ts + "\n" + get("/") + "\n🐵🙈🙉\n", `f.gor: line 7: header line "4 a ` + ts + `": unknown payload type "4" (want 1, 2 or 3)`, false},
		{"timestamp in seconds", "1 a 1795773600\n" + get("/") + "\n🐵🙈🙉\n", `f.gor: line 7: header line "1 a 1795773600": timestamp "1795773600" is not Unix nanoseconds`, false},
		{"bad latency", "1 a " + ts + " soon\n" + get("/") + "\n🐵🙈🙉\n", `f.gor: line 7: header line "1 a ` + ts + ` soon": latency "soon" is not nanoseconds`, false},
		{"not http", record(1, "a", 1, "", "NOT HTTP\r\n\r\n"), `f.gor: line 7: request: malformed HTTP request "NOT HTTP"`, false},
		{"headers cut", record(1, "a", 1, "", "GET / HTTP/1.1\r\nHost: h"), `f.gor: line 7: request: header block is not terminated by an empty line`, false},
		{"bad header line", record(1, "a", 1, "", "GET / HTTP/1.1\r\nNoColonHere\r\n\r\n"), `f.gor: line 7: request: malformed header line "NoColonHere"`, false},
		{"bad chunk", record(1, "a", 1, "", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), `f.gor: line 7: request body: invalid byte in chunk length`, false},
		{"bad response", record(1, "a", 1, "", get("/x")) + record(2, "a", 2, "", "HTTP/1.1 abc OK\r\n\r\n"), `f.gor: line 13: response: malformed HTTP status code "abc"`, false},
		{"record too long", record(1, "a", 1, "", get("/"+strings.Repeat("x", 300))), `f.gor: line 7: record longer than the 256-byte limit`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := run(t, strings.NewReader(good+c.bad), "f.gor", importers.MaxEntryBytes(256))
			require.Error(t, err)
			assert.Equal(t, c.want, err.Error())
			if c.limit {
				assert.ErrorIs(t, err, importers.ErrLimit)
			} else {
				assert.ErrorIs(t, err, importers.ErrInvalid)
			}
			assert.Empty(t, res.Exchanges, "the good request was still waiting for its response")
		})
	}
}

func TestSkipInvalid(t *testing.T) {
	in := record(1, "a", 1, "", get("/a")) +
		"garbage line\nmore garbage\n🐵🙈🙉\n" +
		record(1, "b", 2, "", get("/"+strings.Repeat("x", 300))) +
		record(1, "c", 3, "", get("/c")) +
		record(2, "a", 4, "", ok("A")) +
		record(2, "c", 5, "", "HTTP/1.1 abc OK\r\n\r\n")
	res, err := run(t, strings.NewReader(in), "f.gor", importers.SkipInvalid(true), importers.MaxEntryBytes(256))
	require.NoError(t, err)
	require.Len(t, res.Exchanges, 2)
	assert.Equal(t, "/a", res.Exchanges[0].GetRequest().GetPath())
	assert.Equal(t, "A", string(res.Exchanges[0].GetResponse().GetBody().GetData()))
	assert.Equal(t, "/c", res.Exchanges[1].GetRequest().GetPath())
	assert.Nil(t, res.Exchanges[1].GetResponse(), "a bad response leaves its request unpaired")
	assert.Equal(t, gor.UnpairedError, res.Exchanges[1].GetError())
	st := res.Stats
	assert.Equal(t, int64(6), st.Read)
	assert.Equal(t, int64(3), st.Skipped)
	require.Len(t, st.Errors, 3)
	assert.Equal(t, `f.gor: line 7: header line "garbage line": want "TYPE ID TIMESTAMP_NS [LATENCY_NS]"`, st.Errors[0].Error())
	assert.Equal(t, `f.gor: line 10: record longer than the 256-byte limit`, st.Errors[1].Error())
	assert.Contains(t, st.Errors[2].Error(), `f.gor: line 28: response: malformed HTTP status code "abc"`)
	assert.Equal(t, int64(1), st.Unpaired)
}

func TestMaxInputBytes(t *testing.T) {
	in := record(1, "a", 1, "", get("/a")) + record(2, "a", 2, "", ok("")) + record(1, "b", 3, "", get("/b"))
	_, err := run(t, strings.NewReader(in), "f.gor", importers.MaxInputBytes(int64(len(in)-5)), importers.SkipInvalid(true))
	require.ErrorIs(t, err, importers.ErrLimit, "limits on the whole input are not skippable")
	assert.Contains(t, err.Error(), "f.gor: line ")
	assert.Contains(t, err.Error(), "input larger than the")

	res, err := run(t, strings.NewReader(in), "f.gor", importers.MaxInputBytes(int64(len(in))))
	require.NoError(t, err)
	assert.Len(t, res.Exchanges, 2)
}
