package http_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
)

// serverRecords writes a TLS 1.3 server's records after the handshake by
// hand, with the traffic secret crypto/tls logged: crypto/tls sends session
// tickets only within the handshake and key updates only when asked, and a
// test needs a server that sends either while the connection is idle. The
// server's tls.Conn must write nothing after its handshake (no tickets, no
// Close), or the record sequence numbers disagree.
type serverRecords struct {
	w      io.Writer
	out    []byte // records written since the last flush
	hash   func() hash.Hash
	keyLen int
	secret []byte
	aead   cipher.AEAD
	iv     []byte
	seq    uint64
}

// TLS 1.3 record content types and handshake message types.
const (
	recordAlert           = 21
	recordHandshake       = 22
	recordApplicationData = 23

	msgNewSessionTicket = 4
	msgKeyUpdate        = 24
)

// errSuite is returned for a cipher suite serverRecords does not speak.
var errSuite = errors.New("cipher suite not supported by the test's record writer")

// newServerRecords writes to w, the connection under a server tls.Conn
// that completed its handshake with suite, logging its keys to keyLog.
func newServerRecords(w io.Writer, suite uint16, keyLog []byte) (*serverRecords, error) {
	r := &serverRecords{w: w}
	switch suite {
	case tls.TLS_AES_128_GCM_SHA256:
		r.hash, r.keyLen = sha256.New, 16
	case tls.TLS_AES_256_GCM_SHA384:
		r.hash, r.keyLen = sha512.New384, 32
	default:
		return nil, fmt.Errorf("%w: %s", errSuite, tls.CipherSuiteName(suite))
	}
	for line := range bytes.Lines(keyLog) {
		fields := bytes.Fields(line)
		if len(fields) == 3 && string(fields[0]) == "SERVER_TRAFFIC_SECRET_0" {
			secret, err := hex.DecodeString(string(fields[2]))
			if err != nil {
				return nil, err
			}
			return r, r.setSecret(secret)
		}
	}
	return nil, errors.New("no server traffic secret in the key log")
}

// setSecret switches to the keys of a traffic secret (RFC 8446, 7.3).
func (r *serverRecords) setSecret(secret []byte) error {
	key, err := r.expandLabel(secret, "key", r.keyLen)
	if err != nil {
		return err
	}
	iv, err := r.expandLabel(secret, "iv", 12)
	if err != nil {
		return err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	r.secret, r.aead, r.iv, r.seq = secret, aead, iv, 0
	return nil
}

// expandLabel is HKDF-Expand-Label with an empty context (RFC 8446, 7.1).
func (r *serverRecords) expandLabel(secret []byte, label string, n int) ([]byte, error) {
	label = "tls13 " + label
	info := append([]byte{byte(n >> 8), byte(n), byte(len(label))}, label...)
	info = append(info, 0)
	return hkdf.Expand(r.hash, secret, string(info), n)
}

// write adds data as one protected record of type typ (RFC 8446, 5.2).
func (r *serverRecords) write(typ byte, data []byte) error {
	inner := append(slices.Clip(data), typ)
	n := len(inner) + r.aead.Overhead()
	header := []byte{recordApplicationData, 3, 3, byte(n >> 8), byte(n)}
	nonce := slices.Clone(r.iv)
	for i := range 8 {
		nonce[len(nonce)-1-i] ^= byte(r.seq >> (8 * i))
	}
	r.seq++
	r.out = r.aead.Seal(append(r.out, header...), nonce, inner, header)
	return nil
}

// flush sends the records written since the last flush, in one write: they
// arrive together.
func (r *serverRecords) flush() error {
	_, err := r.w.Write(r.out)
	r.out = r.out[:0]
	return err
}

// appData sends s as application data.
func (r *serverRecords) appData(s string) error {
	return r.write(recordApplicationData, []byte(s))
}

// ticket sends a NewSessionTicket (RFC 8446, 4.6.1): an hour's lifetime,
// no extensions.
func (r *serverRecords) ticket() error {
	body := []byte{0, 0, 0x0e, 0x10, 1, 2, 3, 4} // lifetime, age_add
	body = append(body, 1, 'n')                  // nonce
	body = append(body, 0, 6)                    // ticket
	body = append(body, "ticket"...)
	body = append(body, 0, 0) // extensions
	return r.write(recordHandshake, handshakeMessage(msgNewSessionTicket, body))
}

// keyUpdate sends a KeyUpdate that asks for none back (RFC 8446, 4.6.3) and
// moves on to the next traffic secret.
func (r *serverRecords) keyUpdate() error {
	if err := r.write(recordHandshake, handshakeMessage(msgKeyUpdate, []byte{0})); err != nil {
		return err
	}
	next, err := r.expandLabel(r.secret, "traffic upd", r.hash().Size())
	if err != nil {
		return err
	}
	return r.setSecret(next)
}

// closeNotify sends the close_notify alert.
func (r *serverRecords) closeNotify() error {
	return r.write(recordAlert, []byte{1, 0})
}

func handshakeMessage(typ byte, body []byte) []byte {
	n := len(body)
	return append([]byte{typ, byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}
