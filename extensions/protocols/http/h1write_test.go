package http

import (
	"bufio"
	"bytes"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/reprise-dev/reprise/harness/protocol"
)

// Which calls writeHead writes, and which it leaves to net/http: the
// plain ones (most replayed requests) must take the direct way, or it
// saves nothing; the others must not, or its bytes could differ.
func TestWriteHeadTakesThePlainCalls(t *testing.T) {
	for _, tc := range []struct {
		target, method, path, query string
		direct                      bool
	}{
		{"http://h:1", "GET", "/v1/items/123", "view=full&lang=en", true},
		{"http://h:1/base/", "POST", "/a%2Fb/c%20d", "q=a%20b", true},
		{"http://h:1", "GET", "/a!b$c&d'e(f)g*h+i,j;k=l:m@n~o", "", true},
		{"http://h:1", "", "/", "", true},
		{"http://h:1", "GET", "", "", false},      // no leading slash: net/url decides
		{"http://h:1", "GET", "/a b", "", false},  // escaped by net/url
		{"http://h:1", "GET", "/é", "", false},    // escaped by net/url
		{"http://h:1", "GET", "/100%", "", false}, // a broken escape is an error there
		{"http://h:1", "GET", "/%zz", "", false},
		{"http://h:1", "GET", "/q", "a=1#frag", false}, // net/url cuts the fragment
		{"http://h:1", "GET", "/q", "a=x y", false},
		{"http://h:1", "GET", "/[x]", "", false},
		{"http://h:1", "CONNECT", "/", "", false},
		{"http://h:1", "BAD METHOD", "/", "", false},
		{"http://[fe80::1%25en0]:1", "GET", "/", "", false}, // a zone to remove
		{"http://h:1/a b/", "GET", "/x", "", false},
	} {
		u, err := url.Parse(tc.target)
		if !assert.NoError(t, err) {
			continue
		}
		c := newH1Conn(protocol.Target{URL: u})
		out, err := c.outgoing(t.Context(), &protocol.Call{Method: tc.method, Path: tc.path, RawQuery: tc.query})
		if err != nil {
			assert.False(t, tc.direct, "%+v: %v", tc, err)
			continue
		}
		assert.Equal(t, tc.direct, out.req == nil, "%+v", tc)
	}
}

// cleanHost gives the Host header that net/http writes for a request made
// for the target, or "" to leave the writing to it.
func TestCleanHostIsWhatNetHTTPWrites(t *testing.T) {
	for _, host := range []string{
		"h:1", "h", "staging:", "127.0.0.1:", "[::1]:", "[::1]:8080", "[::1]",
		"[fe80::1%25en0]:1", "b\u00fccher.example:80", "B\u00dcCHER.example",
	} {
		u, err := url.Parse("http://" + host + "/")
		if !assert.NoError(t, err, host) {
			continue
		}
		req, err := http.NewRequest("GET", u.String(), nil)
		if !assert.NoError(t, err, host) {
			continue
		}
		var raw bytes.Buffer
		if !assert.NoError(t, req.Write(&raw), host) {
			continue
		}
		written, err := http.ReadRequest(bufio.NewReader(&raw))
		if !assert.NoError(t, err, host) {
			continue
		}
		if got := cleanHost(u.Host); got != "" {
			assert.Equal(t, written.Host, got, "target host %q", host)
		}
	}
	assert.Equal(t, "staging", cleanHost("staging:"), "an empty port is dropped")
}
