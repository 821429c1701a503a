package gor

import (
	"bytes"
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/importers"
)

// UnpairedError is the error of an exchange whose response is not in the
// capture.
const UnpairedError = "import: no response in the capture"

// Import streams the GoReplay file from r (called name in errors), calls
// newSink once with the file header and writes one exchange per request. See
// the package documentation for the pairing and the timing.
func Import(ctx context.Context, r io.Reader, name string, newSink importers.NewSinkFunc, opts ...importers.Option) (importers.Stats, error) {
	var st importers.Stats
	cfg, err := importers.NewConfig(opts...)
	if err != nil {
		return st, err
	}
	im := &importer{cfg: cfg, name: name, newSink: newSink, st: &st, pending: make(map[string]*list.Element), requests: list.New(), responses: list.New()}
	im.anchor, im.anchorKnown, err = prescan(ctx, r, cfg)
	if err != nil {
		return st, fmt.Errorf("%s: %w", name, err)
	}
	im.prescanned = im.anchorKnown
	sc := newScanner(r, cfg.MaxEntryBytes, cfg.MaxInputBytes)
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		rec, err := sc.next()
		if errors.Is(err, io.EOF) {
			break
		}
		var lim errInputLimit
		switch {
		case errors.As(err, &lim):
			return st, importers.Limit(name, fmt.Sprintf("line %d", sc.line), err)
		case err != nil:
			return st, fmt.Errorf("%s: read: %w", name, err)
		}
		st.Read++
		if err := im.handle(ctx, rec); err != nil {
			return st, err
		}
	}
	return st, im.finish(ctx)
}

// importer pairs requests and responses by GoReplay id. Only messages still
// waiting for their other half are held, oldest first in two queues: a
// response rarely comes before its request, so waiting responses are given
// up before waiting requests.
type importer struct {
	cfg     *importers.Config
	name    string
	newSink importers.NewSinkFunc
	st      *importers.Stats
	em      *importers.Emitter

	anchor      int64
	anchorKnown bool
	prescanned  bool
	nextID      uint64

	parser       parser
	pending      map[string]*list.Element // of *waiting, in requests or responses
	requests     *list.List
	responses    *list.List
	pendingBytes int64
}

// waiting is a request or a response whose other half has not come yet.
type waiting struct {
	id    string
	line  int
	size  int64
	queue *list.List // the one it waits in

	// A request.
	ex     *rprpb.Exchange
	hreq   *http.Request // its method decides whether a response has a body
	reqEnd int64

	// A response, kept raw until its request says how to read it.
	resp *meta
	raw  []byte
}

func (im *importer) handle(ctx context.Context, rec rawRecord) error {
	where := fmt.Sprintf("line %d", rec.line)
	if rec.tooLong {
		return im.invalid(importers.Limit(im.name, where, fmt.Errorf("record longer than the %d-byte limit", im.cfg.MaxEntryBytes)))
	}
	line, payload := splitRecord(rec.data)
	m, err := parseMeta(line)
	if err != nil {
		return im.invalid(importers.Invalid(im.name, where, err))
	}
	switch m.typ {
	case typeReplayed:
		im.st.Replayed++
		return nil
	case typeRequest:
		return im.request(ctx, rec.line, m, payload)
	}
	return im.response(ctx, rec.line, m, payload)
}

func (im *importer) request(ctx context.Context, line int, m meta, payload []byte) error {
	req, hreq, err := im.parser.parseRequest(payload)
	if err != nil {
		return im.invalid(importers.Invalid(im.name, fmt.Sprintf("line %d", line), err))
	}
	im.noteAnchor(m.ts)
	im.nextID++
	w := &waiting{
		id:     m.id,
		line:   line,
		size:   int64(len(payload)),
		ex:     &rprpb.Exchange{Id: im.nextID, StartNs: m.ts, Request: req},
		hreq:   &http.Request{Method: hreq.Method, ProtoMajor: hreq.ProtoMajor},
		reqEnd: m.ts + max(m.latency, 0),
	}
	if old := im.take(m.id); old != nil {
		if old.resp != nil {
			return im.pair(ctx, w, old)
		}
		// The same id twice: the first request gives up waiting.
		if err := im.unpaired(ctx, old); err != nil {
			return err
		}
	}
	im.add(w)
	return im.evict(ctx)
}

func (im *importer) response(ctx context.Context, line int, m meta, payload []byte) error {
	im.noteAnchor(m.ts)
	w := &waiting{id: m.id, line: line, size: int64(len(payload)), resp: &m, raw: payload}
	if old := im.take(m.id); old != nil {
		if old.ex != nil {
			return im.pair(ctx, old, w)
		}
		// A second response for one id: the first never meets a request.
		im.st.OrphanResponses++
	}
	// The scanner reuses its buffer; a waiting response needs its own copy.
	w.raw = bytes.Clone(payload)
	im.add(w)
	return im.evict(ctx)
}

// pair completes the request with its response. Timing: the response's
// timestamp is its first byte; its latency, when written, is how long it
// took to arrive, so the exchange ends at timestamp + latency.
func (im *importer) pair(ctx context.Context, req, resp *waiting) error {
	r, err := im.parser.parseResponse(resp.raw, req.hreq)
	if err != nil {
		if err := im.invalid(importers.Invalid(im.name, fmt.Sprintf("line %d", resp.line), err)); err != nil {
			return err
		}
		return im.unpaired(ctx, req)
	}
	ex := req.ex
	ex.Response = r
	ex.FirstByteNs = max(resp.resp.ts, ex.StartNs)
	ex.EndNs = ex.FirstByteNs
	if resp.resp.latency >= 0 {
		ex.EndNs = max(resp.resp.ts+resp.resp.latency, ex.FirstByteNs)
	}
	return im.emit(ctx, req)
}

// unpaired writes a request without a response: it ends when the request
// had been read, and carries UnpairedError.
func (im *importer) unpaired(ctx context.Context, req *waiting) error {
	req.ex.FirstByteNs = req.reqEnd
	req.ex.EndNs = req.reqEnd
	req.ex.Error = UnpairedError
	im.st.Unpaired++
	return im.emit(ctx, req)
}

func (im *importer) emit(ctx context.Context, w *waiting) error {
	if err := im.ensureSink(ctx); err != nil {
		return err
	}
	ex := w.ex
	importers.Classify(ex, w.hreq.ProtoMajor, false, ex.StartNs, ex.FirstByteNs, im.cfg.BodyCap)
	// GoReplay records no client address; the chain decides alone.
	return im.em.Emit(ctx, ex, nil, importers.Fallback{})
}

func (im *importer) ensureSink(ctx context.Context) error {
	if im.em != nil {
		return nil
	}
	hdr := im.cfg.Header("gor", im.name, im.anchor)
	hdr.RecorderConfig["gor.anchor"] = "first-record"
	if im.prescanned {
		hdr.RecorderConfig["gor.anchor"] = "earliest"
	}
	s, err := im.newSink(ctx, hdr)
	if err != nil {
		return err
	}
	if s == nil {
		return importers.ErrNoSink
	}
	im.em = importers.NewEmitter(im.cfg, s, im.anchor, im.st)
	return nil
}

func (im *importer) noteAnchor(ts int64) {
	if !im.anchorKnown {
		im.anchor, im.anchorKnown = ts, true
	}
}

func (im *importer) invalid(err *importers.InputError) error {
	if !im.cfg.SkipInvalid {
		return err
	}
	im.st.Skip(err)
	return nil
}

func (im *importer) add(w *waiting) {
	w.queue = im.requests
	if w.resp != nil {
		w.queue = im.responses
	}
	im.pending[w.id] = w.queue.PushBack(w)
	im.pendingBytes += w.size
}

// take removes and returns what waits under id, or nil.
func (im *importer) take(id string) *waiting {
	el, ok := im.pending[id]
	if !ok {
		return nil
	}
	delete(im.pending, id)
	w := el.Value.(*waiting)
	w.queue.Remove(el)
	im.pendingBytes -= w.size
	return w
}

// evict gives up the oldest waiting messages, responses first, while more
// than the limits wait: requests are written unpaired, responses counted as
// orphans.
func (im *importer) evict(ctx context.Context) error {
	for {
		n := im.requests.Len() + im.responses.Len()
		if n == 0 || (n <= im.cfg.MaxPending && im.pendingBytes <= im.cfg.MaxPendingBytes) {
			return nil
		}
		if im.responses.Len() > 0 {
			im.take(im.responses.Front().Value.(*waiting).id)
			im.st.OrphanResponses++
			continue
		}
		w := im.take(im.requests.Front().Value.(*waiting).id)
		im.st.Evicted++
		if err := im.unpaired(ctx, w); err != nil {
			return err
		}
	}
}

// finish writes the requests still waiting, oldest first, and makes sure the
// output exists even when the input held no exchange.
func (im *importer) finish(ctx context.Context) error {
	im.st.OrphanResponses += int64(im.responses.Len())
	for im.requests.Len() > 0 {
		w := im.take(im.requests.Front().Value.(*waiting).id)
		if err := im.unpaired(ctx, w); err != nil {
			return err
		}
	}
	return im.ensureSink(ctx)
}

// prescan finds the earliest timestamp of a seekable input in a first pass
// over its header lines only, then rewinds. A pipe cannot be rewound: ok is
// false and the first record's timestamp becomes the anchor.
func prescan(ctx context.Context, r io.Reader, cfg *importers.Config) (anchor int64, ok bool, err error) {
	rs, isSeeker := r.(io.ReadSeeker)
	if !isSeeker {
		return 0, false, nil
	}
	pos, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, false, nil // stdin on a pipe is an *os.File too
	}
	sc := newScanner(rs, cfg.MaxEntryBytes, cfg.MaxInputBytes)
	sc.headerOnly = true
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, false, err
			}
		}
		rec, err := sc.next()
		if err != nil {
			break // the main pass reports whatever this was
		}
		line, _ := splitRecord(rec.data)
		m, err := parseMeta(line)
		if err != nil || m.typ == typeReplayed {
			continue
		}
		if !ok || m.ts < anchor {
			anchor, ok = m.ts, true
		}
	}
	if _, err := rs.Seek(pos, io.SeekStart); err != nil {
		return 0, false, fmt.Errorf("rewind after the pre-scan: %w", err)
	}
	return anchor, ok, nil
}
