package sequencer

import (
	"context"
	"errors"
	"fmt"

	"github.com/reprise-dev/reprise/compose/internal/sequencer/blocklog"
	pb "github.com/reprise-dev/reprise/compose/proto/platform"
)

// Subscription is one follower: the blocks it asked for that only the data
// dir's log still holds, then the retained ones, then the live ones through
// a bounded channel.
type Subscription struct {
	c       *Chain
	logNext uint64 // next block to read from the log, while below logEnd
	logEnd  uint64
	backlog []*pb.Block
	live    chan *pb.Block
	done    chan struct{} // closed by the chain when it drops the subscriber
	err     error         // why; written before done is closed
	head    uint64
	last    uint64 // number of the last block Next returned
}

// Subscribe follows the chain from block from (0 and 1 both mean the
// oldest block held). With a DataDir every block is held: those older than
// the Retain window are read back from the log. Without one, blocks
// already pruned are skipped: the first block returned is then newer than
// from. A from beyond the next block fails with ErrBeyondHead, which after
// a restart means the chain this follower knew is gone.
func (c *Chain) Subscribe(from uint64) (*Subscription, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	var head uint64
	if h := c.headLocked(); h != nil {
		head = h.Number
	}
	if from > head+1 {
		return nil, fmt.Errorf("%w: from_block %d, head %d", ErrBeyondHead, from, head)
	}
	s := &Subscription{
		c:    c,
		live: make(chan *pb.Block, c.cfg.subscriberBuffer),
		done: make(chan struct{}),
		head: head,
	}
	if len(c.blocks) > 0 {
		oldest := c.blocks[0].Number
		if c.log != nil && max(from, 1) < oldest {
			s.logNext, s.logEnd = max(from, 1), oldest
		}
		start := uint64(0)
		if from > oldest {
			start = from - oldest
		}
		if start < uint64(len(c.blocks)) {
			s.backlog = append([]*pb.Block(nil), c.blocks[start:]...)
		}
	}
	c.subs[s] = struct{}{}
	c.m.subscribers.Set(float64(len(c.subs)))
	return s, nil
}

// Head is the chain head when the subscription began.
func (s *Subscription) Head() uint64 { return s.head }

// Last is the number of the last block Next returned, 0 before any.
func (s *Subscription) Last() uint64 { return s.last }

// Next returns the next block, waiting for it if need be. After the chain
// drops the subscriber it returns the reason (ErrLagging or ErrClosed),
// even if blocks remain buffered: the follower resumes from Last()+1.
func (s *Subscription) Next(ctx context.Context) (*pb.Block, error) {
	if s.logNext < s.logEnd {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := s.c.log.Read(s.logNext)
		switch {
		case errors.Is(err, blocklog.ErrClosed):
			return nil, ErrClosed
		case err != nil:
			return nil, errorf("replay block %d: %w", s.logNext, err)
		}
		s.logNext++
		s.last = b.Number
		return b, nil
	}
	if len(s.backlog) > 0 {
		b := s.backlog[0]
		s.backlog[0] = nil
		s.backlog = s.backlog[1:]
		s.last = b.Number
		return b, nil
	}
	select {
	case <-s.done:
		return nil, s.err
	default:
	}
	select {
	case b := <-s.live:
		s.last = b.Number
		return b, nil
	case <-s.done:
		return nil, s.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close unsubscribes; it is safe after the chain dropped the subscriber.
func (s *Subscription) Close() {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if _, ok := s.c.subs[s]; ok {
		delete(s.c.subs, s)
		s.c.m.subscribers.Set(float64(len(s.c.subs)))
	}
}
