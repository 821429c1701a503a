package http_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/internal/testcert"
)

// A TLS 1.3 server may send a message after the handshake (a session
// ticket, a key update) on a kept connection while it is idle, or along
// with a response: the connection is kept, and the message handled. What
// follows such a message is still looked at: a close or bytes no request
// asked for have the connection replaced before the next call, a POST,
// which would not be sent again had it failed.
func TestH1KeepsIdleTLSConnectionsThroughPostHandshakeMessages(t *testing.T) {
	const unsolicited = "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
	for _, tc := range []struct {
		name  string
		send  func(r *serverRecords) error
		along bool // sent with the first response, not once it was read
		kept  bool
	}{
		{name: "session ticket", send: (*serverRecords).ticket, kept: true},
		{name: "key update", send: (*serverRecords).keyUpdate, kept: true},
		{name: "tickets and a key update", send: func(r *serverRecords) error {
			return errors.Join(r.ticket(), r.ticket(), r.keyUpdate())
		}, kept: true},
		{name: "ticket along with the response", send: (*serverRecords).ticket, along: true, kept: true},
		{name: "ticket then close_notify", send: func(r *serverRecords) error {
			return errors.Join(r.ticket(), r.closeNotify())
		}},
		{name: "ticket then unsolicited response", send: func(r *serverRecords) error {
			return errors.Join(r.ticket(), r.appData(unsolicited))
		}},
		{name: "unsolicited response along with the response", send: func(r *serverRecords) error {
			return r.appData(unsolicited)
		}, along: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			serverCfg, clientCfg := testTLSConfigs(t)
			serverCfg.SessionTicketsDisabled = true // serverRecords writes all after the handshake
			ctx := t.Context()
			setup, read, sent := make(chan error, 1), make(chan struct{}), make(chan struct{}, 1)
			srv := newRawServer(t, func(n int, c net.Conn, _ *bufio.Reader) {
				var keyLog bytes.Buffer
				cfg := serverCfg.Clone()
				cfg.KeyLogWriter = &keyLog
				conn := tls.Server(c, cfg)
				if conn.Handshake() != nil {
					return
				}
				r, err := newServerRecords(c, conn.ConnectionState().CipherSuite, keyLog.Bytes())
				if n == 1 {
					setup <- err
				}
				if err != nil {
					return
				}
				br := bufio.NewReader(conn)
				for i := 0; ; i++ {
					if _, ok := readRequest(br); !ok {
						return
					}
					if r.appData(okResponse(fmt.Sprintf("conn %d", n))) != nil {
						return
					}
					if n == 1 && i == 0 {
						if !tc.along {
							if r.flush() != nil {
								return
							}
							select {
							case <-read:
							case <-ctx.Done():
								return
							}
						}
						if tc.send(r) != nil || r.flush() != nil {
							return
						}
						sent <- struct{}{}
						continue
					}
					if r.flush() != nil {
						return
					}
				}
			})
			c := dialH1(t, httpsURL(srv), withTLS(clientCfg))
			rep, err := c.Do(ctx, newCall("GET", "/", nil, nil))
			if serr := recv(t, setup, "the server's record writer"); errors.Is(serr, errSuite) {
				t.Skip(serr)
			} else {
				require.NoError(t, serr)
			}
			require.NoError(t, err)
			require.Equal(t, "conn 1", string(rep.Body))
			close(read)
			recv(t, sent, "what the server sends")
			want, conns := "conn 2", 2
			if tc.kept {
				want, conns = "conn 1", 1
			}
			for range 2 {
				rep, err = c.Do(ctx, newCall("POST", "/", []byte("once"), nil))
				require.NoError(t, err)
				assert.Equal(t, want, string(rep.Body))
			}
			assert.EqualValues(t, conns, srv.accepted.Load())
		})
	}
}

// A TLS server that gives up on a kept connection while it is idle, or
// answers what was not asked: the connection is replaced before the next
// call, a POST, which goes through.
func TestH1ReplacesAnIdleTLSConnectionTheServerGaveUp(t *testing.T) {
	for _, tc := range []struct {
		name string
		idle func(conn *tls.Conn, raw net.Conn) error
	}{
		{"close_notify", func(conn *tls.Conn, _ net.Conn) error { return conn.Close() }},
		{"tcp close", func(_ *tls.Conn, raw net.Conn) error { return raw.Close() }},
		{"reset", func(_ *tls.Conn, raw net.Conn) error {
			return errors.Join(raw.(*net.TCPConn).SetLinger(0), raw.Close())
		}},
		{"unsolicited response", func(conn *tls.Conn, _ net.Conn) error {
			_, err := io.WriteString(conn, "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			serverCfg, clientCfg := testTLSConfigs(t)
			ctx := t.Context()
			read, done := make(chan struct{}), make(chan struct{}, 1)
			srv := newRawServer(t, func(n int, c net.Conn, _ *bufio.Reader) {
				conn := tls.Server(c, serverCfg)
				br := bufio.NewReader(conn)
				for i := 0; ; i++ {
					if _, ok := readRequest(br); !ok {
						return
					}
					if _, err := io.WriteString(conn, okResponse(fmt.Sprintf("conn %d", n))); err != nil {
						return
					}
					if n == 1 && i == 0 {
						select {
						case <-read:
						case <-ctx.Done():
							return
						}
						if tc.idle(conn, c) != nil {
							return
						}
						done <- struct{}{}
					}
				}
			})
			c := dialH1(t, httpsURL(srv), withTLS(clientCfg))
			rep, err := c.Do(ctx, newCall("GET", "/", nil, nil))
			require.NoError(t, err)
			require.Equal(t, "conn 1", string(rep.Body))
			close(read)
			recv(t, done, "what the server does while idle")
			rep, err = c.Do(ctx, newCall("POST", "/", []byte("once"), nil))
			require.NoError(t, err)
			assert.Equal(t, "conn 2", string(rep.Body))
			assert.EqualValues(t, 2, srv.accepted.Load())
		})
	}
}

// okResponse is a keep-alive response with body.
func okResponse(body string) string {
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

// httpsURL is the address of srv, spoken to with TLS.
func httpsURL(srv *rawServer) string {
	return strings.Replace(srv.URL, "http://", "https://", 1)
}

func withTLS(cfg *tls.Config) func(*protocol.Target) {
	return func(tg *protocol.Target) { tg.TLS = cfg }
}

// testTLSConfigs returns a TLS 1.3 server config with a certificate for
// 127.0.0.1, made for the test, and a client config that trusts it.
func testTLSConfigs(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	c := testcert.Loopback(t)
	server = &tls.Config{Certificates: []tls.Certificate{c.TLS()}, MinVersion: tls.VersionTLS13}
	return server, &tls.Config{RootCAs: c.Pool(), MinVersion: tls.VersionTLS13}
}
