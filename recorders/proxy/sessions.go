package proxy

import (
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/redact"
	"github.com/reprise-dev/reprise/recorders/session"
)

// Sessions sets the extractor chain that derives each exchange's session
// key (default session.Default()).
func Sessions(c session.Chain) Option {
	return func(p *Proxy) {
		if len(c) > 0 {
			p.sessions = c
		}
	}
}

// hideSessionKeys hides secret-derived session keys with r's placeholders,
// without redacting the exchange inline: Recorder redacts in the queue's
// consumer, and the key must not reach even the queue in clear.
func hideSessionKeys(r *redact.Redactor) Option { return func(p *Proxy) { p.hider = r } }

// sessionOf stamps the exchange's session key and its source.
func (p *Proxy) sessionOf(ex *rprpb.Exchange, x *exchange) {
	sr := session.Request{Header: x.req.Header, RemoteAddr: x.req.RemoteAddr}
	if p.hider != nil {
		ex.Session, ex.SessionSource = p.sessions.KeyRedacted(sr, p.hideFn, p.sensitive...)
		return
	}
	ex.Session, ex.SessionSource = p.sessions.Key(sr)
}

// hide is the session placeholder function.
func (p *Proxy) hide(s string) string {
	if s == "" || redact.IsPlaceholder(s) {
		return s
	}
	return p.hider.Placeholder(s)
}

// parseSessions parses a session chain spec; empty means the default chain.
func parseSessions(spec string) (session.Chain, error) {
	return session.Parse(sessionSpec(spec))
}

// sessionSpec is the spec in effect, as written to the file header.
func sessionSpec(spec string) string {
	if spec == "" {
		return session.DefaultSpec
	}
	return spec
}
