package proxy_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/proxy"
	"github.com/reprise-dev/reprise/recorders/proxy/proxytest"
	"github.com/reprise-dev/reprise/recorders/redact"
)

// Planted secrets. Each is unique so a leak names its source.
var secrets = []string{
	"bearer-SECRET-7f3a9",
	"cookie-SECRET-91b2c",
	"query-SECRET-3c4d5",
	"password-SECRET-e6f7",
	"token-SECRET-gzip-a8b9",
	"custom-SECRET-header-0d1e",
	"pin-SECRET-field-2f3a",
}

func gzipped(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestRedactionEndToEnd(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !bytes.Contains(body, []byte(secrets[3])) || r.Header.Get("X-Custom-Secret") != secrets[5] {
			http.Error(w, "the upstream must get the real secrets", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(gzipped(t, []byte(`{"user":"bob","token":"`+secrets[4]+`","pin":"`+secrets[6]+`"}`)))
	})
	up := httptest.NewServer(mux)
	defer up.Close()
	keyFile := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(keyFile, []byte("0123456789abcdef0123456789abcdef\n"), 0o600))
	run := proxytest.StartRun(t, up.URL, proxytest.Config(func(c *proxy.Config) {
		c.RedactHeaders = []string{"X-Custom-Secret"}
		c.RedactFields = []string{"pin"}
		c.RedactionKeyFile = keyFile
	}))

	req := newReq(t, "POST", run.URL+"/login?user=bob&token="+secrets[2],
		strings.NewReader(`{"user":"bob","password":"`+secrets[3]+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+secrets[0])
	req.Header.Set("Cookie", "session="+secrets[1]+"; theme=dark")
	req.Header.Set("X-Custom-Secret", secrets[5])
	r := do(t, h1Client(t), req)
	require.Equal(t, http.StatusOK, r.Status, "the client's secrets reach the upstream: %s", r.Body)
	zr, err := gzip.NewReader(bytes.NewReader(r.Body))
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	require.Contains(t, string(plain), secrets[4], "the client gets the real token")

	exs := run.Stop()
	require.Len(t, exs, 1)

	raw, err := os.ReadFile(run.Path)
	require.NoError(t, err)
	for _, s := range secrets {
		assert.NotContains(t, string(raw), s, "raw file bytes")
	}
	ex := exs[0]
	marshalled, err := proto.Marshal(&rprpb.Record{Kind: &rprpb.Record_Exchange{Exchange: ex}})
	require.NoError(t, err)
	var decoded []byte
	if b := ex.Response.Body.GetData(); len(b) > 0 {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		require.NoError(t, err, "the recorded response is still valid gzip")
		decoded, err = io.ReadAll(zr)
		require.NoError(t, err)
	}
	for _, s := range secrets {
		assert.NotContains(t, string(marshalled), s, "decompressed record")
		assert.NotContains(t, string(decoded), s, "gunzipped response body")
		assert.NotContains(t, ex.Session, s, "session key")
	}
	// What replaced them are placeholders, and the file says how.
	assert.Contains(t, header(ex.Request.Headers, "Authorization")[0], "Bearer "+redact.PlaceholderPrefix)
	assert.Contains(t, ex.Request.RawQuery, "token="+redact.PlaceholderPrefix)
	assert.Contains(t, string(ex.Request.Body.Data), redact.PlaceholderPrefix)
	assert.Contains(t, string(decoded), `"user":"bob"`, "non-secret fields survive")
	// The session came from the session cookie: it is hidden behind the
	// same placeholder as the cookie itself.
	assert.Equal(t, "cookie:session", ex.SessionSource)
	assert.True(t, redact.IsPlaceholder(ex.Session), ex.Session)
	assert.Contains(t, header(ex.Request.Headers, "Cookie")[0], "session="+ex.Session)
	pol := run.Header().Redaction
	require.NotNil(t, pol)
	assert.Equal(t, redact.Scheme, pol.Scheme)
	assert.NotEmpty(t, pol.KeyId)
	assert.Contains(t, pol.Headers, "X-Custom-Secret")
	assert.Contains(t, pol.JsonFields, "pin")
	assert.Equal(t, "file", run.Header().RecorderConfig["redaction_key"])
}
