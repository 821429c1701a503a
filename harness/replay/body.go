package replay

import (
	"bytes"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// maxBody caps how much of one response is read and decoded, so a huge
// download or a compression bomb costs bounded memory.
const maxBody = 4 << 20

// decodeBody removes the content coding; ok is false when the coding is
// unknown or broken, and a truncated capture yields what decoded so far.
func decodeBody(data []byte, coding string) (out []byte, ok bool) {
	var r io.Reader
	var err error
	switch strings.ToLower(strings.TrimSpace(coding)) {
	case "", "identity":
		return data, true
	case "gzip", "x-gzip":
		r, err = gzip.NewReader(bytes.NewReader(data))
	case "deflate":
		r, err = zlib.NewReader(bytes.NewReader(data))
	case "zstd":
		var d *zstd.Decoder
		d, err = zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxBody*4))
		if err == nil {
			defer d.Close()
			r = d
		}
	default:
		return nil, false
	}
	if err != nil {
		return nil, false
	}
	out, _ = io.ReadAll(io.LimitReader(r, maxBody))
	return out, true
}

func headerValues(hs []*rprpb.Header, name string) []string {
	var out []string
	for _, h := range hs {
		if strings.EqualFold(h.GetName(), name) {
			out = append(out, h.GetValues()...)
		}
	}
	return out
}

func firstHeader(hs []*rprpb.Header, name string) string {
	if v := headerValues(hs, name); len(v) > 0 {
		return v[0]
	}
	return ""
}
