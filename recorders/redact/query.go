package redact

import (
	"net/url"
	"strings"
)

// Query replaces the values of secret parameters in a raw query (without
// '?'). Everything else, including the order and the escaping of the other
// parameters, is kept byte for byte. Values are unescaped before they are
// hashed, so "a%2Bb" in a query and "a+b" in a JSON body share a placeholder.
func (r *Redactor) Query(rawQuery string) string {
	return r.params(rawQuery, r.queryFields)
}

// params rewrites "k=v&k=v" text, replacing the values whose unescaped,
// lowercased key is in fields.
func (r *Redactor) params(raw string, fields fieldSet) string {
	if raw == "" || !strings.Contains(raw, "=") {
		return raw
	}
	pieces := strings.Split(raw, "&")
	changed := false
	for i, piece := range pieces {
		if k, v, ok := r.param(piece, fields); ok {
			pieces[i] = k + "=" + v
			changed = true
		}
	}
	if !changed {
		return raw
	}
	return strings.Join(pieces, "&")
}

// param returns the replacement for one "k=v" piece, and false when the
// piece stays as it is.
func (r *Redactor) param(piece string, fields fieldSet) (key, val string, ok bool) {
	k, v, hasEq := strings.Cut(piece, "=")
	if !hasEq || v == "" {
		return "", "", false
	}
	name := k
	if u, err := url.QueryUnescape(k); err == nil {
		name = u
	}
	if !fields.has(strings.TrimSpace(name)) {
		return "", "", false
	}
	secret := v
	if u, err := url.QueryUnescape(v); err == nil {
		secret = u
	}
	p := r.hide(secret)
	if p == secret {
		return "", "", false
	}
	return k, p, true
}
