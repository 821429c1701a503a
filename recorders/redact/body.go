package redact

import (
	"bytes"
	"mime"
	"strings"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// Body redacts a captured body in place. contentType and contentEncoding
// are the header values ("" when absent). Body.Size keeps the wire size.
//
// The body is decoded (gzip, x-gzip, deflate, zstd), redacted by its media
// type, and encoded again with the same codings when something changed.
// A body whose codings cannot be undone (unknown coding such as br, a
// truncated or corrupt stream, inflation past its cap) is dropped: Data
// becomes nil and Truncated true. gRPC bodies are left alone.
func (r *Redactor) Body(contentType, contentEncoding string, body *rprpb.Body) {
	if body == nil || len(body.Data) == 0 {
		return
	}
	media := mediaType(contentType)
	if strings.HasPrefix(media, "application/grpc") {
		return
	}
	names, err := parseCodings(contentEncoding)
	if err != nil {
		drop(body)
		return
	}
	plain, codings, err := decodeAll(body.Data, names, decodeLimit(len(body.Data)))
	if err != nil {
		drop(body)
		return
	}
	out := r.plainBody(media, contentType, plain)
	if len(out) == len(plain) && bytes.Equal(out, plain) {
		return
	}
	if len(codings) == 0 {
		body.Data = out
		return
	}
	enc, err := encodeAll(out, codings)
	if err != nil {
		drop(body)
		return
	}
	body.Data = enc
}

// drop removes data that could not be redacted; it must not reach disk.
func drop(body *rprpb.Body) {
	body.Data = nil
	body.Truncated = true
}

// mediaType is the lowercase type/subtype of a Content-Type value.
func mediaType(contentType string) string {
	t, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(t))
}

// plainBody redacts decoded bytes by media type. It returns b itself when
// nothing changed.
func (r *Redactor) plainBody(media, contentType string, b []byte) []byte {
	switch {
	case media == "application/x-www-form-urlencoded":
		if out := r.params(string(b), r.formFields); out != string(b) {
			return []byte(out)
		}
		return b
	case media == "multipart/form-data":
		return r.multipart(contentType, b)
	case strings.Contains(media, "json") || looksJSON(b):
		if out, ok := r.rewriteJSON(b, r.jsonFields); ok {
			return out
		}
	}
	return r.scanFields(b)
}

// looksJSON reports whether b starts like a JSON object or array.
func looksJSON(b []byte) bool {
	i := skipSpace(b, 0)
	return i < len(b) && (b[i] == '{' || b[i] == '[')
}

// multipart redacts a multipart/form-data body without re-encoding it: the
// value of a part named like a secret field (and not a file) is replaced
// whole, JSON parts are rewritten, every other part is byte-scanned. A
// final part cut off by truncation is treated like the others.
func (r *Redactor) multipart(contentType string, b []byte) []byte {
	_, params, err := mime.ParseMediaType(contentType)
	boundary := params["boundary"]
	if err != nil || boundary == "" {
		return r.scanFields(b)
	}
	delim := []byte("--" + boundary)
	var out []byte
	last := 0
	for pos := bytes.Index(b, delim); pos >= 0; {
		after := pos + len(delim)
		if bytes.HasPrefix(b[after:], []byte("--")) {
			break // the closing delimiter; the epilogue is ignored by readers
		}
		nl := bytes.IndexByte(b[after:], '\n')
		if nl < 0 {
			break
		}
		partStart := after + nl + 1
		partEnd, next := len(b), -1
		if k := bytes.Index(b[partStart:], delim); k >= 0 {
			next = partStart + k
			partEnd = trimLineBreak(b, partStart, next)
		}
		if content, off, ok := r.multipartPart(b[partStart:partEnd]); ok {
			if out == nil {
				out = make([]byte, 0, len(b))
			}
			out = append(out, b[last:partStart+off]...)
			out = append(out, content...)
			last = partEnd
		}
		pos = next
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// trimLineBreak drops the CRLF (or LF) before a delimiter at end: it belongs
// to the delimiter, not to the part.
func trimLineBreak(b []byte, start, end int) int {
	if end > start && b[end-1] == '\n' {
		end--
		if end > start && b[end-1] == '\r' {
			end--
		}
	}
	return end
}

// multipartPart returns the redacted content of one part and the offset at
// which the content starts; ok is false when the part needs no change.
func (r *Redactor) multipartPart(part []byte) (content []byte, start int, ok bool) {
	sep := []byte("\r\n\r\n")
	h := bytes.Index(part, sep)
	if h < 0 {
		sep = []byte("\n\n")
		if h = bytes.Index(part, sep); h < 0 {
			return nil, 0, false // headers cut off: no content yet
		}
	}
	start = h + len(sep)
	body := part[start:]
	var name, filename, ctype string
	for _, line := range strings.Split(string(part[:h]), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "content-disposition":
			if _, p, err := mime.ParseMediaType(v); err == nil {
				name, filename = p["name"], p["filename"]
			}
		case "content-type":
			ctype = strings.TrimSpace(v)
		}
	}
	var out []byte
	switch media := mediaType(ctype); {
	case filename == "" && r.formFields.has(strings.TrimSpace(name)):
		out = []byte(r.hide(string(body)))
	case strings.HasPrefix(media, "multipart/"):
		// No recursion: nesting depth would be the attacker's to choose.
		out = r.scanFields(body)
	default:
		out = r.plainBody(media, ctype, body)
	}
	if bytes.Equal(out, body) {
		return nil, 0, false
	}
	return out, start, true
}
