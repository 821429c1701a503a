package session

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrEmptySpec means the spec has no element at all.
	ErrEmptySpec = errors.New("empty session chain")
	// ErrUnknownExtractor means an element names no known extractor.
	ErrUnknownExtractor = errors.New("unknown extractor")
	// ErrBadElement means a known extractor was given a bad argument.
	ErrBadElement = errors.New("bad session chain element")
)

const wantKinds = "want header, cookie, jwt-sub, grpc-metadata, client-addr"

// Parse reads a comma-separated chain spec. Elements are tried in order:
//
//	header:NAME          a request header
//	cookie:NAME          a cookie of the Cookie header
//	jwt-sub[:HEADER]     the sub claim of a JWT (default: Authorization Bearer)
//	grpc-metadata:KEY    a metadata entry of a gRPC call
//	client-addr          the client IP, without the port
//
// Errors name the element, counting from 1:
//
//	session chain element 2 "cokie:x": unknown extractor "cokie" (want header, cookie, jwt-sub, grpc-metadata, client-addr)
func Parse(spec string) (Chain, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, ErrEmptySpec
	}
	elems := strings.Split(spec, ",")
	chain := make(Chain, 0, len(elems))
	seen := map[string]int{}
	for i, raw := range elems {
		elem := strings.TrimSpace(raw)
		e, err := parseElement(elem)
		if err != nil {
			return nil, fmt.Errorf("session chain element %d %q: %w", i+1, elem, err)
		}
		if first, dup := seen[e.Name()]; dup {
			return nil, fmt.Errorf("session chain element %d %q: %w: repeats element %d", i+1, elem, ErrBadElement, first)
		}
		seen[e.Name()] = i + 1
		chain = append(chain, e)
	}
	return chain, nil
}

func parseElement(elem string) (Extractor, error) {
	if elem == "" {
		return nil, fmt.Errorf("%w: empty element", ErrBadElement)
	}
	kind, arg, hasArg := strings.Cut(elem, ":")
	kind = strings.TrimSpace(kind)
	arg = strings.TrimSpace(arg)
	needArg := func(what string) error {
		if !hasArg || arg == "" {
			return fmt.Errorf("%w: %s needs a %s (%s:%s)", ErrBadElement, kind, what, kind, strings.ToUpper(what))
		}
		if !isToken(arg) {
			return fmt.Errorf("%w: %s %q has characters not allowed in a %s", ErrBadElement, what, arg, what)
		}
		return nil
	}
	switch strings.ToLower(kind) {
	case "header":
		if err := needArg("name"); err != nil {
			return nil, err
		}
		return Header(arg), nil
	case "cookie":
		if err := needArg("name"); err != nil {
			return nil, err
		}
		return Cookie(arg), nil
	case "grpc-metadata":
		if err := needArg("key"); err != nil {
			return nil, err
		}
		return GRPCMetadata(arg), nil
	case "jwt-sub":
		if !hasArg {
			return JWTSub(""), nil
		}
		if err := needArg("header"); err != nil {
			return nil, err
		}
		return JWTSub(arg), nil
	case "client-addr":
		if hasArg {
			return nil, fmt.Errorf("%w: client-addr takes no argument", ErrBadElement)
		}
		return ClientAddr(), nil
	}
	return nil, fmt.Errorf("%w %q (%s)", ErrUnknownExtractor, kind, wantKinds)
}

// isToken reports whether s is an RFC 9110 token, which is what header
// names, cookie names and metadata keys all are.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return s != ""
}
