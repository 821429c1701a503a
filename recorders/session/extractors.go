package session

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Header takes the key from the first non-empty value of a request header.
func Header(name string) Extractor { return headerExtractor{header: http.CanonicalHeaderKey(name)} }

// Cookie takes the key from the value of the named cookie. Cookie names are
// case-sensitive.
func Cookie(name string) Extractor { return cookieExtractor{cookie: name} }

// GRPCMetadata takes the key from a metadata entry of a gRPC call (a
// request whose Content-Type is application/grpc or application/grpc-*).
// Other requests yield nothing, so the source always says the truth.
func GRPCMetadata(key string) Extractor {
	return grpcMetadataExtractor{key: strings.ToLower(key)}
}

// ClientAddr takes the key from the client's IP address, without the port.
func ClientAddr() Extractor { return clientAddrExtractor{} }

type headerExtractor struct{ header string }

func (e headerExtractor) Name() string { return "header:" + strings.ToLower(e.header) }

func (e headerExtractor) Extract(r Request) (string, bool) {
	return firstValue(r.Header, e.header)
}

type cookieExtractor struct{ cookie string }

func (e cookieExtractor) Name() string { return "cookie:" + e.cookie }

func (e cookieExtractor) Extract(r Request) (string, bool) {
	for _, line := range values(r.Header, "Cookie") {
		for _, pair := range strings.Split(line, ";") {
			name, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok || strings.TrimSpace(name) != e.cookie {
				continue
			}
			val = strings.TrimSpace(val)
			if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
				val = val[1 : len(val)-1]
			}
			if val != "" {
				return val, true
			}
		}
	}
	return "", false
}

type grpcMetadataExtractor struct{ key string }

func (e grpcMetadataExtractor) Name() string { return "grpc-metadata:" + e.key }

func (e grpcMetadataExtractor) Extract(r Request) (string, bool) {
	ct, _ := firstValue(r.Header, "Content-Type")
	if !strings.HasPrefix(strings.ToLower(ct), "application/grpc") {
		return "", false
	}
	return firstValue(r.Header, e.key)
}

type clientAddrExtractor struct{}

func (clientAddrExtractor) Name() string { return "client-addr" }

// Extract returns the IP in canonical form (IPv4-mapped IPv6 unmapped), so
// one client keeps one key whichever way its address was written.
func (clientAddrExtractor) Extract(r Request) (string, bool) {
	a := strings.TrimSpace(r.RemoteAddr)
	if ap, err := netip.ParseAddrPort(a); err == nil {
		return ap.Addr().Unmap().String(), true
	}
	if ip, err := netip.ParseAddr(strings.Trim(a, "[]")); err == nil {
		return ip.Unmap().String(), true
	}
	if host, _, err := net.SplitHostPort(a); err == nil && host != "" {
		return host, true
	}
	return a, a != ""
}

// values returns every value of a header. http.Header is keyed by the
// canonical name, but maps built by hand (importers, tests) may not be, so
// other spellings are looked up too.
func values(h http.Header, name string) []string {
	if v, ok := h[http.CanonicalHeaderKey(name)]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func firstValue(h http.Header, name string) (string, bool) {
	for _, v := range values(h, name) {
		if v = strings.TrimSpace(v); v != "" {
			return v, true
		}
	}
	return "", false
}
