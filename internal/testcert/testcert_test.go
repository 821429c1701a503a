package testcert_test

import (
	"crypto/tls"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/internal/testcert"
)

// TestLoopbackHandshake: a client that trusts the pool completes a
// handshake with a server presenting the certificate, by IP and by name,
// and the PEM files load as a key pair.
func TestLoopbackHandshake(t *testing.T) {
	c := testcert.Loopback(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{c.TLS()}})
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = conn.Write([]byte("x"))
			_ = conn.Close()
		}
	}()
	for _, name := range []string{"127.0.0.1", "localhost"} {
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: c.Pool(), ServerName: name})
		require.NoError(t, err, name)
		b, err := io.ReadAll(conn)
		require.NoError(t, err)
		require.Equal(t, "x", string(b))
		conn.Close()
	}
	_, err = tls.Dial("tcp", ln.Addr().String(), &tls.Config{ServerName: "127.0.0.1"})
	require.Error(t, err, "not trusted without the pool")
	certFile, keyFile := c.WriteFiles(t, t.TempDir())
	_, err = tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
}
