package hub

import (
	"sync"
	"sync/atomic"

	"github.com/wsgate/wsgate/internal/frame"
)

// channel is one channel's subscribers. Its lock orders publications: it is
// held while a publication is handed to every subscriber. Lock order: a
// channel's mu before Hub.mu and Hub.idxMu, never the other way round.
type channel struct {
	name string
	n    atomic.Int32 // len(subs), readable without mu

	mu   sync.Mutex
	subs []subscription     // in no particular order; guarded by mu
	pos  map[Subscriber]int // index of each subscriber in subs; guarded by mu
	dead bool               // dropped from the hub, never used again; guarded by mu
}

// subscription is one subscriber of a channel and the last position it was
// sent, for deduplication: seq 0 means nothing sequenced was sent yet.
type subscription struct {
	s     Subscriber
	seq   uint64
	epoch string
}

func newChannel(name string) *channel {
	return &channel{name: name, pos: make(map[Subscriber]int)}
}

// addLocked appends s and returns its subscription, valid until the next
// change to c.subs. c.mu must be held and s must not be subscribed.
func (c *channel) addLocked(s Subscriber) *subscription {
	c.pos[s] = len(c.subs)
	c.subs = append(c.subs, subscription{s: s})
	c.n.Store(int32(len(c.subs)))
	return &c.subs[len(c.subs)-1]
}

// removeLocked removes s, moving the last subscription into its place, and
// reports whether s was subscribed. c.mu must be held.
func (c *channel) removeLocked(s Subscriber) bool {
	i, ok := c.pos[s]
	if !ok {
		return false
	}
	delete(c.pos, s)
	last := len(c.subs) - 1
	if i != last {
		c.subs[i] = c.subs[last]
		c.pos[c.subs[i].s] = i
	}
	c.subs[last] = subscription{} // drop the references
	c.subs = c.subs[:last]
	c.n.Store(int32(last))
	if last == 0 {
		c.subs = nil // give back the memory of a large fan-out
	}
	return true
}

// sendLocked hands f, the frame of publication (seq, epoch), to every
// subscription that has not had it yet, and returns how many it reached.
// c.mu must be held.
func (c *channel) sendLocked(f *frame.Prepared, seq uint64, epoch string) int {
	n := 0
	for i := range c.subs {
		sub := &c.subs[i]
		if sub.accept(seq, epoch) {
			sub.s.Send(f)
			n++
		}
	}
	return n
}

// accept reports whether publication (seq, epoch) is new to the
// subscription, and if so remembers it as the last one sent.
func (sub *subscription) accept(seq uint64, epoch string) bool {
	if seq == 0 {
		return true // not sequenced: never a duplicate
	}
	if sub.epoch == epoch {
		if seq <= sub.seq {
			return false
		}
	} else {
		sub.epoch = epoch
	}
	sub.seq = seq
	return true
}
