package gor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/importers"
)

// headerBlock reads the header fields of a raw HTTP message in order. Go's
// http.Header is a map and would lose the order the schema promises.
func headerBlock(payload []byte) ([]*rprpb.Header, error) {
	var hs importers.HeaderList
	var last *rprpb.Header // the header the previous line added to
	rest := payload
	first := true
	for {
		line, tail, found := bytes.Cut(rest, []byte("\n"))
		if !found {
			return nil, errors.New("header block is not terminated by an empty line")
		}
		rest = tail
		line = bytes.TrimSuffix(line, []byte("\r"))
		switch {
		case first:
			first = false
		case len(line) == 0:
			return hs.Headers(), nil
		case line[0] == ' ' || line[0] == '\t':
			// An obsolete folded continuation of the previous value.
			if last == nil {
				return nil, fmt.Errorf("continuation line %s before any header", quote(line))
			}
			last.Values[len(last.Values)-1] += " " + string(bytes.TrimSpace(line))
		default:
			name, value, ok := bytes.Cut(line, []byte(":"))
			if !ok || len(name) == 0 {
				return nil, fmt.Errorf("malformed header line %s", quote(line))
			}
			last = hs.Add(string(name), string(bytes.TrimSpace(value)))
		}
	}
}

// parser reads HTTP messages with one reused buffer: a bufio.Reader per
// message was a tenth of the import's time.
type parser struct {
	src bytes.Reader
	br  *bufio.Reader
}

func (p *parser) reader(payload []byte) *bufio.Reader {
	p.src.Reset(payload)
	if p.br == nil {
		p.br = bufio.NewReader(&p.src)
	} else {
		p.br.Reset(&p.src)
	}
	return p.br
}

// parseRequest parses a type 1 payload. Its body is stored de-chunked, as
// the proxy stores it: a decoded chunked body drops Transfer-Encoding (and
// any Content-Length) from the headers and keeps its trailers as trailers.
func (p *parser) parseRequest(payload []byte) (*rprpb.Request, *http.Request, error) {
	hs, err := headerBlock(payload)
	if err != nil {
		return nil, nil, fmt.Errorf("request: %w", err)
	}
	hr, err := http.ReadRequest(p.reader(payload))
	if err != nil {
		return nil, nil, fmt.Errorf("request: %w", err)
	}
	body, err := readBody(hr.Body, hr.ContentLength)
	if err != nil {
		return nil, nil, fmt.Errorf("request body: %w", err)
	}
	scheme := "http" // GoReplay sniffs plain-text traffic
	if hr.URL.Scheme != "" {
		scheme = strings.ToLower(hr.URL.Scheme)
	}
	req := &rprpb.Request{
		Method:   hr.Method,
		Scheme:   scheme,
		Host:     hr.Host,
		Path:     hr.URL.EscapedPath(),
		RawQuery: hr.URL.RawQuery,
		Proto:    hr.Proto,
		// Host lives in the host field, as Go's server (and so the proxy)
		// keeps it out of the header map.
		Headers:  importers.DeleteHeader(dechunked(hs, hr.TransferEncoding), "Host"),
		Body:     body,
		Trailers: trailers(hr.Trailer),
	}
	return req, hr, nil
}

// parseResponse parses a type 2 payload answering req (whose method says
// whether a body follows).
func (p *parser) parseResponse(payload []byte, req *http.Request) (*rprpb.Response, error) {
	hs, err := headerBlock(payload)
	if err != nil {
		return nil, fmt.Errorf("response: %w", err)
	}
	hr, err := http.ReadResponse(p.reader(payload), req)
	if err != nil {
		return nil, fmt.Errorf("response: %w", err)
	}
	body, err := readBody(hr.Body, hr.ContentLength)
	if err != nil {
		return nil, fmt.Errorf("response body: %w", err)
	}
	return &rprpb.Response{
		Status:   int32(hr.StatusCode),
		Proto:    hr.Proto,
		Headers:  dechunked(hs, hr.TransferEncoding),
		Body:     body,
		Trailers: trailers(hr.Trailer),
	}, nil
}

// readBody reads a body whole. A body cut short (GoReplay's copy buffer was
// full, or the capture ended) is kept and marked truncated, with the size it
// announced.
func readBody(rc io.ReadCloser, contentLength int64) (*rprpb.Body, error) {
	defer rc.Close()
	data, err := io.ReadAll(rc)
	truncated := false
	switch {
	case err == nil:
	case errors.Is(err, io.ErrUnexpectedEOF):
		truncated = true
	default:
		return nil, err
	}
	if len(data) == 0 && !truncated {
		return nil, nil
	}
	size := int64(len(data))
	if truncated && contentLength > size {
		size = contentLength
	}
	return &rprpb.Body{Data: data, Size: size, Truncated: truncated}, nil
}

func dechunked(hs []*rprpb.Header, te []string) []*rprpb.Header {
	if !slices.Contains(te, "chunked") {
		return hs
	}
	hs = importers.DeleteHeader(hs, "Transfer-Encoding")
	return importers.DeleteHeader(hs, "Content-Length")
}

func trailers(t http.Header) []*rprpb.Header {
	var out []*rprpb.Header
	for _, name := range slices.Sorted(maps.Keys(t)) {
		if len(t[name]) > 0 {
			out = append(out, &rprpb.Header{Name: name, Values: slices.Clone(t[name])})
		}
	}
	return out
}
