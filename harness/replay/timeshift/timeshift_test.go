package timeshift

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The recording spans 10:00Z to 11:00Z; with Margin the window is 09:00Z to
// 12:00Z. delta has a sub-second part so that rounding to each value's
// precision shows.
var (
	from  = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC) // unix 1795773600
	to    = from.Add(time.Hour)
	delta = 48*time.Hour + 1234567891*time.Nanosecond
)

func TestJSONLeaves(t *testing.T) {
	cases := []struct{ name, in, want string }{
		// RFC 3339 strings.
		{"seconds Z", `"2026-11-27T10:30:00Z"`, `"2026-11-29T10:30:01Z"`},
		{"tenths", `"2026-11-27T10:30:00.5Z"`, `"2026-11-29T10:30:01.7Z"`},
		{"millis", `"2026-11-27T10:30:00.000Z"`, `"2026-11-29T10:30:01.235Z"`},
		{"nanos", `"2026-11-27T10:30:00.123456789Z"`, `"2026-11-29T10:30:01.358024680Z"`},
		{"lower case t and z", `"2026-11-27t10:30:00z"`, `"2026-11-29t10:30:01z"`},
		{"no zone, space", `"2026-11-27 10:30:00"`, `"2026-11-29 10:30:01"`},
		{"no zone, micros", `"2026-11-27T10:30:00.000001"`, `"2026-11-29T10:30:01.234569"`},
		{"positive offset kept", `"2026-11-27T12:30:00+02:00"`, `"2026-11-29T12:30:01+02:00"`},
		{"negative offset kept", `"2026-11-27T05:30:00-05:00"`, `"2026-11-29T05:30:01-05:00"`},
		{"window start, inclusive", `"2026-11-27T09:00:00Z"`, `"2026-11-29T09:00:01Z"`},
		{"window end, inclusive", `"2026-11-27T12:00:00Z"`, `"2026-11-29T12:00:01Z"`},
		{"month rollover", `"2026-11-27T11:59:59Z"`, `"2026-11-29T12:00:00Z"`},
		// Unix numbers.
		{"unix seconds", `1795775400`, `1795948201`},
		{"unix millis", `1795775400000`, `1795948201235`},
		{"unix micros", `1795775400000000`, `1795948201234568`},
		{"unix nanos", `1795775400000000000`, `1795948201234567891`},
		{"decimal seconds, 1 digit", `1795775400.5`, `1795948201.7`},
		{"decimal seconds, 3 digits", `1795775400.250`, `1795948201.485`},
		{"decimal millis", `1795775400000.5`, `1795948201235.1`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, n := JSON([]byte(tc.in), delta, from, to)
			assert.Equal(t, tc.want, string(out))
			assert.Equal(t, 1, n)
		})
	}
}

func TestJSONLeavesKept(t *testing.T) {
	cases := map[string]string{
		"before window":        `"2026-11-27T08:59:59Z"`,
		"after window":         `"2026-11-27T12:00:01Z"`,
		"offset puts it after": `"2026-11-27T10:30:00-02:00"`,
		"date only":            `"2026-11-27"`,
		"no seconds":           `"2026-11-27T10:30Z"`,
		"leap second":          `"2026-11-27T10:30:60Z"`,
		"impossible date":      `"2026-11-31T10:30:00Z"`,
		"ten fraction digits":  `"2026-11-27T10:30:00.1234567890Z"`,
		"empty fraction":       `"2026-11-27T10:30:00.Z"`,
		"offset without colon": `"2026-11-27T10:30:00+0000"`,
		"trailing text":        `"2026-11-27T10:30:00Z ok"`,
		"escaped":              `"2026-11-27T10:30:00\u005a"`,
		"seconds before":       `1795766399`,
		"seconds after":        `1795784401`,
		"small number":         `200`,
		"zero":                 `0`,
		"negative":             `-1795775400`,
		"exponent":             `1.7957754e9`,
		"too many digits":      `17957754000000000000`,
		"too many fraction":    `1795775400.0000000001`,
		"true":                 `true`,
		"null":                 `null`,
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			out, n := JSON([]byte(in), delta, from, to)
			assert.Equal(t, in, string(out))
			assert.Zero(t, n)
		})
	}
}

// TestJSONByteForByte checks that only the moved leaves change: keys that
// are timestamps, odd white space, escapes, order and other values stay.
func TestJSONByteForByte(t *testing.T) {
	in := readFile(t, "testdata/document.json")
	want := readFile(t, "testdata/document.shifted.json")
	out, n := JSON(in, delta, from, to)
	assert.Equal(t, string(want), string(out))
	assert.Equal(t, 6, n)
	assert.True(t, json.Valid(out))
	assert.Equal(t, readFile(t, "testdata/document.json"), in, "the input must not be modified")
}

func TestJSONNegativeDelta(t *testing.T) {
	out, n := JSON([]byte(`{"at":"2026-11-27T10:30:00Z","ms":1795775400000}`), -24*time.Hour, from, to)
	assert.Equal(t, `{"at":"2026-11-26T10:30:00Z","ms":1795689000000}`, string(out))
	assert.Equal(t, 2, n)
}

func TestJSONUnchanged(t *testing.T) {
	valid := []byte(`{"at":"2026-11-27T10:30:00Z"}`)
	big := []byte(`{"at":"2026-11-27T10:30:00Z","pad":"` + strings.Repeat("x", MaxBody) + `"}`)
	cases := []struct {
		name     string
		body     []byte
		delta    time.Duration
		from, to time.Time
	}{
		{"not JSON", []byte(`{"at":"2026-11-27T10:30:00Z"`), delta, from, to},
		{"two documents", []byte(`{} {"at":"2026-11-27T10:30:00Z"}`), delta, from, to},
		{"too big", big, delta, from, to},
		{"zero delta", valid, 0, from, to},
		{"to before from", valid, delta, to, from},
		{"empty", nil, delta, from, to},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, n := JSON(tc.body, tc.delta, tc.from, tc.to)
			assert.Zero(t, n)
			assert.True(t, bytes.Equal(tc.body, out))
		})
	}
}

func TestJSONYearOutOfRange(t *testing.T) {
	end := time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC)
	in := `["9999-12-31T23:30:00Z"]`
	out, n := JSON([]byte(in), 2*time.Hour, end, end)
	assert.Equal(t, in, string(out))
	assert.Zero(t, n)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func BenchmarkJSON(b *testing.B) {
	body, err := os.ReadFile("testdata/document.json")
	require.NoError(b, err)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		JSON(body, delta, from, to)
	}
}

func BenchmarkJSONNoTimestamps(b *testing.B) {
	body := []byte(`{"user":{"name":"Ada","tags":["a","b","c"],"age":36,"ok":true},"items":[1,2,3,4,5,6,7,8]}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		JSON(body, delta, from, to)
	}
}
