package redact

import (
	"strings"
	"unicode"
)

// Header applies the header rules to the values of one header and returns
// the result. The input slice is never modified; when nothing is secret the
// same slice comes back.
//
//   - Authorization, Proxy-Authorization: the scheme word is kept and the
//     credential after it replaced ("Bearer P", "Basic P" with P covering the
//     whole base64 credential). A value without a scheme word is replaced whole.
//   - Cookie: every cookie value is replaced, names are kept.
//   - Set-Cookie: the value of the first pair is replaced, attributes are kept.
//   - Policy.Headers: the whole value is replaced.
//   - Location, Content-Location, Referer: secret query parameters (and
//     fragment parameters, where OAuth puts access_token) are replaced.
func (r *Redactor) Header(name string, values []string) []string {
	var rule func(string) string
	switch l := strings.ToLower(strings.TrimSpace(name)); {
	case l == "authorization" || l == "proxy-authorization":
		rule = r.credentials
	case l == "cookie":
		rule = r.cookie
	case l == "set-cookie":
		rule = r.setCookie
	case r.wholeHeaders.has(l):
		rule = func(v string) string { return r.hide(strings.TrimSpace(v)) }
	case l == "location" || l == "content-location" || l == "referer":
		rule = r.url
	default:
		return values
	}
	var out []string
	for i, v := range values {
		nv := rule(v)
		if nv != v && out == nil {
			out = append(make([]string, 0, len(values)), values[:i]...)
		}
		if out != nil {
			out = append(out, nv)
		}
	}
	if out == nil {
		return values
	}
	return out
}

// credentials keeps an auth scheme word and replaces what follows it, so a
// token issued in a JSON body and later sent as "Bearer <token>" gets the
// same placeholder in both places.
func (r *Redactor) credentials(v string) string {
	v = strings.TrimSpace(v)
	i := strings.IndexAny(v, " \t")
	if i < 0 && bareSchemes[strings.ToLower(v)] {
		return v
	}
	if i < 0 || !isSchemeWord(v[:i]) {
		return r.hide(v)
	}
	cred := strings.TrimSpace(v[i+1:])
	if cred == "" || IsPlaceholder(cred) {
		return v
	}
	return v[:i] + " " + r.Placeholder(cred)
}

// bareSchemes are kept when they make up the whole value: a scheme word
// with no credential after it holds nothing secret.
var bareSchemes = map[string]bool{"basic": true, "bearer": true, "token": true, "digest": true, "negotiate": true, "ntlm": true}

// isSchemeWord accepts what looks like an auth-scheme token (Bearer, Basic,
// AWS4-HMAC-SHA256, ...). Anything else is treated as part of the secret.
func isSchemeWord(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// cookie replaces every value of a Cookie header, keeping names and
// separators byte for byte.
func (r *Redactor) cookie(v string) string {
	var b strings.Builder
	for i, seg := range strings.Split(v, ";") {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(r.cookiePair(seg))
	}
	return b.String()
}

// setCookie replaces the value of the first pair of each line; the
// attributes (Path, HttpOnly, ...) are not secret. Some tools fold several
// Set-Cookie headers into one value with newlines, hence the lines.
func (r *Redactor) setCookie(v string) string {
	lines := strings.Split(v, "\n")
	for i, line := range lines {
		pair, attrs, hasAttrs := strings.Cut(line, ";")
		lines[i] = r.cookiePair(pair)
		if hasAttrs {
			lines[i] += ";" + attrs
		}
	}
	return strings.Join(lines, "\n")
}

// cookiePair redacts the value of one "name=value" segment, keeping the
// surrounding whitespace and any double quotes, so the same value gets the
// same placeholder in Set-Cookie and Cookie. A segment without '=' is a
// nameless cookie and is replaced whole.
func (r *Redactor) cookiePair(seg string) string {
	trimmed := strings.TrimSpace(seg)
	if trimmed == "" {
		return seg
	}
	lead := seg[:len(seg)-len(strings.TrimLeftFunc(seg, unicode.IsSpace))]
	trail := seg[len(lead)+len(trimmed):]
	name, val, ok := strings.Cut(trimmed, "=")
	if !ok {
		return lead + r.hide(trimmed) + trail
	}
	val = strings.TrimSpace(val)
	if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
		return lead + name + "=\"" + r.hide(val[1:len(val)-1]) + "\"" + trail
	}
	return lead + name + "=" + r.hide(val) + trail
}

// url redacts the query and the fragment parameters of a URL-valued header.
func (r *Redactor) url(v string) string {
	rest, frag, hasFrag := strings.Cut(v, "#")
	base, query, hasQuery := strings.Cut(rest, "?")
	if hasQuery {
		query = r.Query(query)
		rest = base + "?" + query
	}
	if hasFrag {
		if strings.Contains(frag, "=") {
			frag = r.params(frag, r.queryFields)
		}
		return rest + "#" + frag
	}
	return rest
}
