package har_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/recorders/importers"
)

const okEntry = `{"startedDateTime":"2026-01-01T00:00:00Z","time":1,"request":{"method":"GET","url":"https://h/ok","headers":[]},"response":{"status":200,"headers":[],"content":{"size":0}},"timings":{}}`

func withField(field, value string) string {
	switch field {
	case "url":
		return strings.Replace(okEntry, `"url":"https://h/ok"`, `"url":`+value, 1)
	case "method":
		return strings.Replace(okEntry, `"method":"GET"`, `"method":`+value, 1)
	case "start":
		return strings.Replace(okEntry, `"startedDateTime":"2026-01-01T00:00:00Z"`, `"startedDateTime":`+value, 1)
	case "status":
		return strings.Replace(okEntry, `"status":200`, `"status":`+value, 1)
	case "content":
		return strings.Replace(okEntry, `"content":{"size":0}`, `"content":`+value, 1)
	case "reqheaders":
		return strings.Replace(okEntry, `"headers":[]},"response"`, `"headers":`+value+`},"response"`, 1)
	case "timings":
		return strings.Replace(okEntry, `"timings":{}`, `"timings":`+value, 1)
	}
	panic(field)
}

func TestMalformed(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		want      string // the exact message
		limit     bool
	}{
		{"not json", "hello", `bad.har: line 1, column 1: invalid character 'h' looking for beginning of value`, false},
		{"not an object", `[1]`, `bad.har: line 1, column 1: want a HAR document ("{"), got "["`, false},
		{"cut short", "{\n \"log\": {\"entries\": [\n" + okEntry, `bad.har: line 3, column 186: unexpected EOF`, false},
		{"syntax inside entries", "{\"log\":{\"entries\":[\n" + okEntry + ",\n{\"startedDateTime\": }]}}", `bad.har: line 3, column 21: invalid character '}' looking for beginning of value`, false},
		{"no log", `{"other":1}`, `bad.har: log: missing: not a HAR file`, false},
		{"no entries", `{"log":{"version":"1.2"}}`, `bad.har: log.entries: missing`, false},
		{"trailing data", `{"log":{"entries":[]}} {}`, `bad.har: line 1, column 24: data after the HAR document`, false},
		{"bad url", entryHAR(okEntry, withField("url", `"https://h/%zz"`)), `bad.har: entries[1].request.url: parse "https://h/%zz": invalid URL escape "%zz"`, false},
		{"relative url", entryHAR(withField("url", `"/only/a/path"`)), `bad.har: entries[0].request.url: "/only/a/path" is not an absolute URL`, false},
		{"url of wrong type", entryHAR(withField("url", `42`)), `bad.har: entries[0].request.url: want string, got JSON number`, false},
		{"no method", entryHAR(withField("method", `""`)), `bad.har: entries[0].request.method: missing`, false},
		{"bad start", entryHAR(withField("start", `"yesterday"`)), `bad.har: entries[0].startedDateTime: "yesterday" is not an RFC 3339 time`, false},
		{"start out of range", entryHAR(withField("start", `"1900-01-01T00:00:00Z"`)), `bad.har: entries[0].startedDateTime: "1900-01-01T00:00:00Z" is out of range`, false},
		{"bad status", entryHAR(withField("status", `1000`)), `bad.har: entries[0].response.status: 1000 is not an HTTP status`, false},
		{"bad base64", entryHAR(withField("content", `{"size":3,"text":"!!!","encoding":"base64"}`)), `bad.har: entries[0].response.content.text: bad base64: illegal base64 data at input byte 0`, false},
		{"unknown encoding", entryHAR(withField("content", `{"size":3,"text":"abc","encoding":"gzip"}`)), `bad.har: entries[0].response.content.encoding: unsupported encoding "gzip" (want base64 or none)`, false},
		{"empty header name", entryHAR(withField("reqheaders", `[{"name":"a","value":"1"},{"name":" ","value":"2"}]`)), `bad.har: entries[0].request.headers[1].name: empty header name`, false},
		{"header name with colon", entryHAR(withField("reqheaders", `[{"name":"a:b","value":"1"}]`)), `bad.har: entries[0].request.headers[0].name: invalid header name "a:b"`, false},
		{"absurd timings", entryHAR(withField("timings", `{"wait":1e300}`)), `bad.har: entries[0].timings: duration of 1e+300 ms out of range`, false},
		{"body over the limit", entryHAR(withField("content", `{"size":3000,"text":"`+strings.Repeat("x", 3000)+`"}`)), `bad.har: entries[0].response.content.text: 3000 bytes exceed the 2048-byte limit`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := run(t, strings.NewReader(c.doc), "bad.har", importers.MaxEntryBytes(2048))
			require.Error(t, err)
			assert.Equal(t, c.want, err.Error())
			if c.limit {
				assert.ErrorIs(t, err, importers.ErrLimit)
			} else {
				assert.ErrorIs(t, err, importers.ErrInvalid)
			}
			assert.Zero(t, res.SinkCalls, "a bad HAR never creates an output")
		})
	}
}

func TestMaxInputBytes(t *testing.T) {
	doc := entryHAR(okEntry, okEntry)
	res, err := run(t, strings.NewReader(doc), "big.har", importers.MaxInputBytes(int64(len(doc)-1)))
	require.ErrorIs(t, err, importers.ErrLimit)
	assert.Contains(t, err.Error(), "big.har: larger than the")
	assert.Zero(t, res.SinkCalls)

	_, err = run(t, strings.NewReader(doc), "big.har", importers.MaxInputBytes(int64(len(doc))))
	require.NoError(t, err, "exactly at the limit is fine")
}

func TestSkipInvalid(t *testing.T) {
	doc := entryHAR(
		okEntry,
		withField("url", `"::nope"`),
		withField("status", `"200"`),
		withField("content", `{"size":3000,"text":"`+strings.Repeat("x", 3000)+`"}`),
		strings.Replace(okEntry, "/ok", "/ok2", 1),
	)
	res, err := run(t, strings.NewReader(doc), "skip.har", importers.SkipInvalid(true), importers.MaxEntryBytes(2048))
	require.NoError(t, err)
	require.Len(t, res.Exchanges, 2)
	assert.Equal(t, "/ok", res.Exchanges[0].GetRequest().GetPath())
	assert.Equal(t, "/ok2", res.Exchanges[1].GetRequest().GetPath())
	assert.Equal(t, []uint64{1, 2}, []uint64{res.Exchanges[0].GetId(), res.Exchanges[1].GetId()}, "ids stay dense")
	st := res.Stats
	assert.Equal(t, int64(5), st.Read)
	assert.Equal(t, int64(2), st.Imported)
	assert.Equal(t, int64(3), st.Skipped)
	require.Len(t, st.Errors, 3)
	assert.Equal(t, `skip.har: entries[1].request.url: parse "::nope": missing protocol scheme`, st.Errors[0].Error())
	assert.Equal(t, `skip.har: entries[2].response.status: want int, got JSON string`, st.Errors[1].Error())
	assert.ErrorIs(t, st.Errors[2], importers.ErrLimit)

	// A syntax error cannot be skipped: nothing after it can be trusted.
	_, err = run(t, strings.NewReader(`{"log":{"entries":[`+okEntry+`,{]}}`), "skip.har", importers.SkipInvalid(true))
	require.ErrorIs(t, err, importers.ErrInvalid)
}
