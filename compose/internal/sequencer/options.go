package sequencer

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for a Chain; the service flags start from these.
const (
	DefaultBlockInterval    = 200 * time.Millisecond
	DefaultMaxBlockTxs      = 500
	DefaultRetain           = 10_000
	DefaultSubscriberBuffer = 1024
	DefaultMaxMempool       = 100_000
)

type config struct {
	blockInterval    time.Duration
	maxBlockTxs      int
	retain           int
	subscriberBuffer int
	maxMempool       int
	leak             bool
	dataDir          string
	reg              prometheus.Registerer
	now              func() time.Time
}

func defaultConfig() config {
	return config{
		blockInterval:    DefaultBlockInterval,
		maxBlockTxs:      DefaultMaxBlockTxs,
		retain:           DefaultRetain,
		subscriberBuffer: DefaultSubscriberBuffer,
		maxMempool:       DefaultMaxMempool,
		reg:              prometheus.NewRegistry(),
		now:              time.Now,
	}
}

// Option configures a Chain.
type Option func(*config)

// BlockInterval is how often the producer seals the mempool into a block,
// empty or not. Zero turns the timer off: blocks are then sealed only when
// the mempool is full or Seal is called, which tests use for determinism.
func BlockInterval(d time.Duration) Option { return func(c *config) { c.blockInterval = d } }

// MaxBlockTxs caps a block's size; a mempool that reaches it is sealed at
// once instead of waiting for the timer.
func MaxBlockTxs(n int) Option { return func(c *config) { c.maxBlockTxs = n } }

// Retain is how many recent blocks are kept in memory for replay.
func Retain(n int) Option { return func(c *config) { c.retain = n } }

// SubscriberBuffer is how many blocks a follower may fall behind the head
// before it is disconnected.
func SubscriberBuffer(n int) Option { return func(c *config) { c.subscriberBuffer = n } }

// MaxMempool bounds the mempool; SubmitTx fails with ErrMempoolFull beyond it.
func MaxMempool(n int) Option { return func(c *config) { c.maxMempool = n } }

// Leak switches on the seeded FAULT_LEAK: every transaction is also kept,
// padded, in an audit log that is never trimmed.
func Leak(on bool) Option { return func(c *config) { c.leak = on } }

// DataDir makes the chain durable: every block is appended and fsynced to
// a log in dir before anyone sees it, and New continues the chain found
// there. Empty (the default) keeps the chain in memory only.
func DataDir(dir string) Option { return func(c *config) { c.dataDir = dir } }

// Registerer is where the chain's metrics go; by default a private registry.
func Registerer(r prometheus.Registerer) Option { return func(c *config) { c.reg = r } }

func (c config) validate() error {
	switch {
	case c.blockInterval < 0:
		return errorf("block interval %s is negative", c.blockInterval)
	case c.maxBlockTxs < 1:
		return errorf("max block txs %d must be at least 1", c.maxBlockTxs)
	case c.retain < 1:
		return errorf("retain %d must be at least 1", c.retain)
	case c.subscriberBuffer < 1:
		return errorf("subscriber buffer %d must be at least 1", c.subscriberBuffer)
	case c.maxMempool < c.maxBlockTxs:
		return errorf("max mempool %d is below max block txs %d", c.maxMempool, c.maxBlockTxs)
	}
	return nil
}
