package replay

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"os"
	"slices"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// Source holds the recorded exchanges a replay sends: a *Store
// (LoadExchanges) or, for small inputs, Exchanges in memory.
type Source interface {
	// protocol is the recorded protocol of an exchange; ok is false when
	// the source lacks it.
	protocol(id uint64) (p rprpb.Protocol, ok bool)
	// recorded returns an exchange the caller may read but not modify.
	recorded(id uint64) (stored, error)
}

// stored is an exchange as a Source hands it out.
type stored struct {
	ex *rprpb.Exchange
	// out is the request already rebuilt, which ex then lacks (a Store
	// reads it so, see decodeStored); nil: rebuild(ex).
	out *outRequest
	// sum is the response body's summary when the source keeps one;
	// nil: compute it from ex.
	sum *recBody
}

// Exchanges are recorded exchanges held in memory, by exchange id. Each
// replayed exchange is shared by every send of it, read-only.
type Exchanges map[uint64]*rprpb.Exchange

func (e Exchanges) protocol(id uint64) (rprpb.Protocol, bool) {
	ex := e[id]
	return ex.GetProtocol(), ex != nil
}

func (e Exchanges) recorded(id uint64) (stored, error) {
	ex := e[id]
	if ex == nil {
		return stored{}, fmt.Errorf("%w: exchange %d", ErrMissingExchange, id)
	}
	return stored{ex: ex}, nil
}

// Store is the Source LoadExchanges fills: the planned exchanges, slimmed,
// in an unlinked temporary file, read back one at a time when sent. The
// process holds only a small index entry per exchange, so replay memory
// does not grow with the exchanges' size. Safe for concurrent use; Close
// releases the file.
type Store struct {
	f *os.File
	// ents[i] locates the exchange whose id is the i-th of the sorted
	// planned ids: ids, or, when those are the consecutive run first,
	// first+1, ... (as a recorder numbers them), nil and found by
	// subtraction, so that they cost nothing.
	ids   []uint64
	first uint64
	ents  []storeEntry
	bufs  sync.Pool

	closeOnce sync.Once
	closeErr  error
}

// storeEntry locates one exchange's record in the file, in 12 bytes: at
// a million exchanges each byte is a megabyte.
type storeEntry struct {
	offLo uint32 // offset = offHi<<32 | offLo: files up to 256 TiB
	n     uint32
	offHi uint16
	proto uint8 // rprpb.Protocol
	ok    bool  // written
}

func (e storeEntry) off() int64 { return int64(e.offHi)<<32 | int64(e.offLo) }

// maxStoreFile is the largest offset a storeEntry holds.
const maxStoreFile = 1<<48 - 1

// A store record is a fixed header (the response body's summary: flags,
// size, digest, shape) and the slimmed exchange's protobuf bytes.
const (
	recHeaderLen   = 1 + 8 + 8 + 8
	flagDecoded    = 1
	flagShapeOK    = 2
	maxStoreRecord = 1<<31 - 1
)

// ErrStore marks a failure of the Store's own file (creating, writing or
// reading it back), as opposed to a bad recording.
var ErrStore = errors.New("replay: exchange store")

// LoadOption configures LoadExchanges.
type LoadOption func(*loadConfig)

type loadConfig struct{ dir string }

// SpillDir puts the Store's file in dir instead of os.TempDir(): a
// disk-backed directory, such as the run directory, where the temporary
// directory is a tmpfs in memory.
func SpillDir(dir string) LoadOption { return func(c *loadConfig) { c.dir = dir } }

// LoadExchanges reads the exchanges a plan replays from a record stream
// (recording.Reader.All yields one), keeps only those, and writes them to
// a Store, so a window of a long recording costs the disk of the window
// and replay memory stays small.
//
// Each is stored slim: the request whole, since it is rebuilt; of the
// response, everything only for the exchanges whose responses issue
// correlated values (the sources of the plan's correlations), and for the
// others only what the response diff needs: the status, the body's size
// and truncated flag, and a summary of its bytes (digest and JSON shape
// hash, computed here) in place of the bytes themselves.
//
// The file is created in os.TempDir() (TMPDIR) or SpillDir and unlinked at
// once: it is gone when the Store is closed or the process ends. Its
// failures wrap ErrStore; a bad record stream's errors do not.
func LoadExchanges(ctx context.Context, seq iter.Seq2[*rprpb.Record, error], p *plan.Plan, opts ...LoadOption) (*Store, error) {
	var cfg loadConfig
	for _, o := range opts {
		o(&cfg)
	}
	ids := make([]uint64, 0, len(p.Nodes))
	for _, n := range p.Nodes {
		ids = append(ids, n.ID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	source := make([]bool, len(ids))
	for _, c := range p.Correlations {
		if c.Source.Node >= 0 && c.Source.Node < len(p.Nodes) {
			if i, ok := slices.BinarySearch(ids, p.Nodes[c.Source.Node].ID); ok {
				source[i] = true
			}
		}
	}
	f, err := os.CreateTemp(cfg.dir, ".reprise-exchanges-*")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStore, err)
	}
	// Unlinked now, the file lives as long as the descriptor.
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %w", ErrStore, err)
	}
	s := &Store{f: f, ids: ids, ents: make([]storeEntry, len(ids))}
	if len(ids) > 0 && ids[len(ids)-1]-ids[0] == uint64(len(ids)-1) {
		s.ids, s.first = nil, ids[0]
	}
	if err := s.fill(ctx, seq, source); err != nil {
		s.Close()
		return nil, err
	}
	for i, n := range p.Nodes {
		if _, ok := s.entry(n.ID); !ok {
			s.Close()
			return nil, fmt.Errorf("%w: node %d, exchange %d", ErrMissingExchange, i, n.ID)
		}
	}
	return s, nil
}

func (s *Store) fill(ctx context.Context, seq iter.Seq2[*rprpb.Record, error], source []bool) error {
	w := bufio.NewWriterSize(s.f, 1<<16)
	var (
		off int64
		buf []byte
		mo  = proto.MarshalOptions{Deterministic: false}
	)
	for rec, err := range seq {
		if err != nil {
			return fmt.Errorf("replay: load exchanges: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		ex := rec.GetExchange()
		if ex == nil {
			continue
		}
		i, ok := s.index(ex.GetId())
		if !ok || s.ents[i].ok { // not planned, or a repeated id: the first stands
			continue
		}
		sum := summarizeBody(ex.GetResponse())
		if !source[i] {
			slim(ex)
		}
		buf = appendRecHeader(buf[:0], sum)
		if buf, err = mo.MarshalAppend(buf, ex); err != nil {
			return fmt.Errorf("replay: load exchanges: exchange %d: %w", ex.GetId(), err)
		}
		if len(buf) > maxStoreRecord {
			return fmt.Errorf("replay: load exchanges: exchange %d: %d bytes is too large", ex.GetId(), len(buf))
		}
		if off+int64(len(buf)) > maxStoreFile {
			return fmt.Errorf("%w: write: more than %d bytes", ErrStore, int64(maxStoreFile))
		}
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("%w: write: %w", ErrStore, err)
		}
		s.ents[i] = storeEntry{offLo: uint32(off), offHi: uint16(off >> 32), n: uint32(len(buf)), proto: uint8(ex.GetProtocol()), ok: true}
		off += int64(len(buf))
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("%w: write: %w", ErrStore, err)
	}
	return nil
}

func appendRecHeader(b []byte, rb recBody) []byte {
	var flags byte
	if rb.decoded {
		flags |= flagDecoded
	}
	if rb.shapeOK {
		flags |= flagShapeOK
	}
	b = append(b, flags)
	b = binary.LittleEndian.AppendUint64(b, uint64(rb.size))
	b = binary.LittleEndian.AppendUint64(b, rb.digest)
	return binary.LittleEndian.AppendUint64(b, rb.shape)
}

func parseRecHeader(b []byte) recBody {
	return recBody{decoded: b[0]&flagDecoded != 0, shapeOK: b[0]&flagShapeOK != 0,
		size:   int(binary.LittleEndian.Uint64(b[1:])),
		digest: binary.LittleEndian.Uint64(b[9:]), shape: binary.LittleEndian.Uint64(b[17:])}
}

// Len is the number of distinct exchanges stored.
func (s *Store) Len() int { return len(s.ents) }

// index is the position of id among the planned ids.
func (s *Store) index(id uint64) (int, bool) {
	if s.ids == nil {
		if id < s.first || id-s.first >= uint64(len(s.ents)) {
			return 0, false
		}
		return int(id - s.first), true
	}
	return slices.BinarySearch(s.ids, id)
}

func (s *Store) entry(id uint64) (storeEntry, bool) {
	i, ok := s.index(id)
	if !ok || !s.ents[i].ok {
		return storeEntry{}, false
	}
	return s.ents[i], true
}

func (s *Store) protocol(id uint64) (rprpb.Protocol, bool) {
	e, ok := s.entry(id)
	return rprpb.Protocol(e.proto), ok
}

// errStoreClosed is returned by reads after Close.
var errStoreClosed = fmt.Errorf("%w closed", ErrStore)

func (s *Store) recorded(id uint64) (stored, error) {
	e, ok := s.entry(id)
	if !ok {
		return stored{}, fmt.Errorf("%w: exchange %d", ErrMissingExchange, id)
	}
	bp, _ := s.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer s.bufs.Put(bp)
	if cap(*bp) < int(e.n) {
		*bp = make([]byte, e.n)
	}
	b := (*bp)[:e.n]
	if _, err := s.f.ReadAt(b, e.off()); err != nil {
		if errors.Is(err, os.ErrClosed) {
			err = errStoreClosed
		}
		return stored{}, fmt.Errorf("%w: exchange %d: read back: %w", ErrStore, id, err)
	}
	rb := parseRecHeader(b)
	// Both copy what they keep of the buffer, which can be reused.
	ex, out, err := decodeStored(b[recHeaderLen:])
	if errors.Is(err, errTwoRequests) { // not as fill writes them: proto merges
		ex, out = &rprpb.Exchange{}, nil
		err = proto.Unmarshal(b[recHeaderLen:], ex)
	}
	if err != nil {
		return stored{}, fmt.Errorf("%w: exchange %d: read back: %w", ErrStore, id, err)
	}
	return stored{ex: ex, out: out, sum: &rb}, nil
}

// Close releases the file; reads after it fail.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.f.Close() })
	return s.closeErr
}

// slim drops from an exchange what the executor never reads when its
// response issues no correlated value: the response's headers, trailers and
// body bytes (the store keeps their summary, see recBody), the server's
// message payloads (their sizes are kept), and descriptive fields.
func slim(ex *rprpb.Exchange) {
	ex.ClientAddr, ex.SessionSource, ex.Error = "", "", ""
	if resp := ex.GetResponse(); resp != nil {
		body := resp.GetBody()
		size := body.GetSize()
		if size == 0 {
			size = int64(len(body.GetData()))
		}
		ex.Response = &rprpb.Response{Status: resp.GetStatus(), Body: &rprpb.Body{Size: size, Truncated: body.GetTruncated()}}
	}
	var msgs []*rprpb.Message
	if g := ex.GetGrpc(); g != nil {
		msgs = g.GetMessages()
	}
	if w := ex.GetWebsocket(); w != nil {
		msgs = append(msgs, w.GetMessages()...)
	}
	for _, m := range msgs {
		if m.GetDirection() == rprpb.Direction_DIRECTION_RESPONSE {
			if m.GetSize() == 0 {
				m.Size = int64(len(m.GetData()))
			}
			m.Data = nil
		}
	}
	if req := ex.GetRequest(); req != nil {
		if b := req.GetBody(); b != nil && len(b.GetData()) == 0 && b.GetSize() == 0 && !b.GetTruncated() {
			req.Body = nil
		}
	}
}
