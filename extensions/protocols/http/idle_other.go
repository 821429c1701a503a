//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package http

import (
	"crypto/tls"
	"net"
)

// idleCheck is not available here: a kept connection the server closed is
// found out when it is used, and replaced then if the request may be sent
// again.
type idleCheck struct{}

func newIdleCheck(net.Conn) *idleCheck { return nil }

func (*idleCheck) tlsClient(raw net.Conn, cfg *tls.Config) *tls.Conn { return tls.Client(raw, cfg) }

func (*idleCheck) stale() bool { return false }
