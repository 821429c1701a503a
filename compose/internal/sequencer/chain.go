package sequencer

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/reprise-dev/reprise/compose/internal/sequencer/blocklog"
	pb "github.com/reprise-dev/reprise/compose/proto/platform"
	"google.golang.org/protobuf/proto"
)

// Errors a Chain returns; the gRPC server maps each to a status code.
var (
	ErrInvalidTx   = errors.New("invalid transaction")
	ErrMempoolFull = errors.New("mempool full")
	ErrLagging     = errors.New("subscriber fell behind")
	ErrBeyondHead  = errors.New("from_block is beyond the chain head")
	ErrClosed      = errors.New("sequencer stopped")
	ErrDataDir     = errors.New("data dir")
)

func errorf(format string, args ...any) error {
	return fmt.Errorf("sequencer: "+format, args...)
}

// GenesisHash is the parent hash of block 1.
var GenesisHash = "0x" + hex.EncodeToString(make([]byte, sha256.Size))

type pending struct {
	tx       *pb.Tx
	received time.Time
}

// Chain is the mempool, the retained blocks and the subscribers. Blocks
// are numbered from 1 and never change once sealed, so they are shared by
// every subscriber without copying. With a DataDir the whole chain is also
// on disk (see blocklog) and older blocks are replayed from there.
type Chain struct {
	cfg  config
	m    *metrics
	full chan struct{} // a mempool that reached maxBlockTxs wakes the producer
	log  *blocklog.Log // nil without DataDir

	// sealMu makes seals one at a time, so mu can be let go while a block
	// is fsynced: submitters do not wait on the disk.
	sealMu sync.Mutex

	mu           sync.Mutex
	mempool      []pending
	nonce        uint64
	blocks       []*pb.Block // retained, contiguous, oldest first
	lastProduced time.Time
	subs         map[*Subscription]struct{}
	closed       bool
	audit        [][]byte // FAULT_LEAK: grows with every tx, never trimmed
	auditBytes   int64
}

// New builds a chain; Run produces its blocks.
func New(opts ...Option) (*Chain, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Chain{
		cfg:  cfg,
		m:    newMetrics(cfg.reg),
		full: make(chan struct{}, 1),
		subs: make(map[*Subscription]struct{}),
	}
	if cfg.dataDir != "" {
		if err := c.reload(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// reload continues the chain in the data dir: the newest Retain blocks go
// back into memory, and the tx nonce goes on from the number of
// transactions in the chain. Sealed txs took nonces 1, 2, … in mempool
// order, so hashes stay unique along the chain across restarts.
func (c *Chain) reload() error {
	l, err := blocklog.Open(c.cfg.dataDir)
	if err != nil {
		return errorf("%w: %w", ErrDataDir, err)
	}
	blocks, err := l.Tail(c.cfg.retain)
	if err == nil && len(blocks) > 0 {
		var first *pb.Block
		if first, err = l.Read(1); err == nil && first.GetParentHash() != GenesisHash {
			err = fmt.Errorf("%s: block 1's parent is %s, want the genesis hash: not this sequencer's chain", l.Path(), first.GetParentHash())
		}
	}
	if err != nil {
		l.Close()
		return errorf("%w: %w", ErrDataDir, err)
	}
	c.log, c.blocks, c.nonce = l, blocks, l.Txs()
	c.m.head.Set(float64(l.Len()))
	return nil
}

// Recovery is what New found in the data dir.
type Recovery struct {
	Path           string
	Head           uint64
	TruncatedBytes int64 // torn tail cut off the log
}

// Recovered says what New found in the data dir; false without one.
func (c *Chain) Recovered() (Recovery, bool) {
	if c.log == nil {
		return Recovery{}, false
	}
	return Recovery{Path: c.log.Path(), Head: c.Head(), TruncatedBytes: c.log.Truncated()}, true
}

func validateTx(tx *pb.Tx) error {
	switch {
	case tx.GetPlayer() == "":
		return fmt.Errorf("%w: field player is empty", ErrInvalidTx)
	case tx.GetKind() == "buy":
		if tx.GetItemId() <= 0 {
			return fmt.Errorf("%w: buy: field item_id is %d, want > 0", ErrInvalidTx, tx.GetItemId())
		}
	case tx.GetKind() == "mission":
	default:
		return fmt.Errorf("%w: field kind is %q, want \"buy\" or \"mission\"", ErrInvalidTx, tx.GetKind())
	}
	return nil
}

// Submit puts a copy of tx into the mempool and returns its hash and the
// mempool depth after it.
func (c *Chain) Submit(_ context.Context, in *pb.Tx) (string, int, error) {
	if err := validateTx(in); err != nil {
		return "", 0, err
	}
	tx := proto.Clone(in).(*pb.Tx)
	tx.Hash = ""
	now := c.cfg.now()
	if tx.SubmittedUnixNano == 0 {
		tx.SubmittedUnixNano = now.UnixNano()
	}
	content, err := proto.MarshalOptions{Deterministic: true}.Marshal(tx)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %v", ErrInvalidTx, err)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return "", 0, ErrClosed
	}
	if len(c.mempool) >= c.cfg.maxMempool {
		return "", 0, fmt.Errorf("%w: %d transactions waiting", ErrMempoolFull, len(c.mempool))
	}
	// The nonce makes two identical submissions two transactions.
	c.nonce++
	h := sha256.New()
	h.Write(content)
	h.Write(binary.BigEndian.AppendUint64(nil, c.nonce))
	tx.Hash = "0x" + hex.EncodeToString(h.Sum(nil))
	c.mempool = append(c.mempool, pending{tx: tx, received: now})
	depth := len(c.mempool)
	if c.cfg.leak {
		c.leakLocked(content)
	}
	c.m.txs.Inc()
	c.m.mempool.Set(float64(depth))
	if depth >= c.cfg.maxBlockTxs {
		select {
		case c.full <- struct{}{}:
		default:
		}
	}
	return tx.Hash, depth, nil
}

// auditPadding is what each leaked entry weighs beyond the payload: enough
// to show in process RSS within minutes at a tester's load.
const auditPadding = 2048

// leakLocked is the seeded fault: a "compliance audit" copy of each payload
// that nothing ever trims. The padding is written, not just allocated, so
// the pages are really resident.
func (c *Chain) leakLocked(payload []byte) {
	entry := make([]byte, len(payload)+auditPadding)
	n := copy(entry, payload)
	for i := n; i < len(entry); i++ {
		entry[i] = byte(i)
	}
	c.audit = append(c.audit, entry)
	c.auditBytes += int64(len(entry))
}

// AuditBytes is how much the FAULT_LEAK audit log holds; zero without it.
func (c *Chain) AuditBytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.auditBytes
}

// Run produces blocks until ctx ends, then closes the chain: every
// subscriber is disconnected with ErrClosed. A block that cannot be
// written to the data dir stops it with that error: a sequencer that
// cannot persist must not go on publishing.
func (c *Chain) Run(ctx context.Context) (err error) {
	var tick <-chan time.Time
	if c.cfg.blockInterval > 0 {
		t := time.NewTicker(c.cfg.blockInterval)
		defer t.Stop()
		tick = t.C
	}
	defer func() {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
			if _, err := c.seal(); err != nil {
				return err
			}
		case <-c.full:
			for c.mempoolDepth() >= c.cfg.maxBlockTxs {
				if _, err := c.seal(); err != nil {
					return err
				}
			}
		}
	}
}

func (c *Chain) mempoolDepth() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.mempool)
}

// Seal turns up to MaxBlockTxs mempool transactions into the next block,
// possibly empty, and hands it to every subscriber. Empty blocks are a
// heartbeat: followers measure their lag in time from them. It returns nil
// once the chain is closed or when the block could not be persisted.
func (c *Chain) Seal() *pb.Block {
	b, _ := c.seal()
	return b
}

func (c *Chain) seal() (*pb.Block, error) {
	c.sealMu.Lock()
	defer c.sealMu.Unlock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, nil
	}
	now := c.cfg.now()
	n := min(len(c.mempool), c.cfg.maxBlockTxs)
	b := &pb.Block{Number: 1, ParentHash: GenesisHash, ProducedUnixNano: now.UnixNano(), Txs: make([]*pb.Tx, n)}
	if head := c.headLocked(); head != nil {
		b.Number, b.ParentHash = head.Number+1, head.Hash
	}
	h := sha256.New()
	h.Write([]byte(b.ParentHash))
	h.Write(binary.BigEndian.AppendUint64(nil, b.Number))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(b.ProducedUnixNano)))
	for i, p := range c.mempool[:n] {
		b.Txs[i] = p.tx
		h.Write([]byte(p.tx.Hash))
	}
	b.Hash = "0x" + hex.EncodeToString(h.Sum(nil))
	c.mu.Unlock()

	// Durable before published: a follower never holds a block that a
	// crash could take back. The txs stay in the mempool until then.
	if c.log != nil {
		start := time.Now()
		if err := c.log.Append(b); err != nil {
			return nil, errorf("block %d not sealed: %w", b.Number, err)
		}
		c.m.logAppend.Observe(time.Since(start).Seconds())
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	// Only seal takes from the front of the mempool, one seal at a time:
	// its first n entries are still this block's.
	for _, p := range c.mempool[:n] {
		c.m.inclusion.Observe(now.Sub(p.received).Seconds())
	}
	// Copy the rest down so the backing array does not pin sealed txs.
	rest := len(c.mempool) - n
	c.mempool = append(c.mempool[:0], c.mempool[n:]...)
	clear(c.mempool[rest : rest+n])

	if len(c.blocks) == c.cfg.retain {
		c.blocks[0] = nil
		c.blocks = c.blocks[1:]
	}
	c.blocks = append(c.blocks, b)
	if !c.lastProduced.IsZero() {
		c.m.blockInterval.Observe(now.Sub(c.lastProduced).Seconds())
	}
	c.lastProduced = now
	c.m.blocks.Inc()
	c.m.head.Set(float64(b.Number))
	c.m.mempool.Set(float64(len(c.mempool)))

	for s := range c.subs {
		select {
		case s.live <- b:
		default:
			// Never wait for a slow follower: production must go on.
			c.dropLocked(s, fmt.Errorf("%w: %d blocks unread at block %d", ErrLagging, cap(s.live), b.Number))
			c.m.dropped.Inc()
		}
	}
	return b, nil
}

func (c *Chain) headLocked() *pb.Block {
	if len(c.blocks) == 0 {
		return nil
	}
	return c.blocks[len(c.blocks)-1]
}

// Head is the newest block's number, 0 before the first.
func (c *Chain) Head() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.headLocked(); h != nil {
		return h.Number
	}
	return 0
}

// Tip is the newest block's number and hash: 0 and GenesisHash before the
// first.
func (c *Chain) Tip() (uint64, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.headLocked(); h != nil {
		return h.Number, h.Hash
	}
	return 0, GenesisHash
}

// Close stops the chain: no more blocks, every subscriber disconnected
// with ErrClosed, the data dir's log closed. Run calls it on the way out;
// it is safe to call again.
func (c *Chain) Close() error {
	c.mu.Lock()
	c.closed = true
	for s := range c.subs {
		c.dropLocked(s, ErrClosed)
	}
	c.mu.Unlock()
	if c.log != nil {
		return c.log.Close()
	}
	return nil
}

func (c *Chain) dropLocked(s *Subscription, err error) {
	delete(c.subs, s)
	s.err = err
	close(s.done)
	c.m.subscribers.Set(float64(len(c.subs)))
}
