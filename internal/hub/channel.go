package hub

import (
	"sync"
	"sync/atomic"

	"github.com/wsgate/wsgate/internal/frame"
)

// channel is one channel's subscribers and this node's subscription to
// the Source for it. Its lock orders publications: it is held while a
// publication is handed to every subscriber. Lock order: a channel's mu
// before Hub.mu and Hub.idxMu, never the other way round. No Source call
// and no backlog read is made with mu held.
type channel struct {
	name string
	n    atomic.Int32 // len(subs), readable without mu

	mu   sync.Mutex
	subs []subscription     // in no particular order; guarded by mu
	pos  map[Subscriber]int // index of each subscriber in subs; guarded by mu
	dead bool               // dropped from the hub, never used again; guarded by mu

	// The node's subscription to the Source, made by the channel's first
	// subscriber (interest) outside mu. ready is closed once it is made
	// or failed; cancel and err are set before that, under mu.
	interest bool // someone is making (or made) the subscription; guarded by mu
	ready    chan struct{}
	cancel   func() // guarded by mu; nil until made, or when there is no Source
	err      error  // guarded by mu: why the subscription failed
}

// subscription is one subscriber of a channel and the last position it was
// sent, for deduplication: seq 0 means nothing sequenced was sent yet.
// While its backlog is read (pending) the live publications it would be
// sent wait in held, up to MaxHeldBytes.
type subscription struct {
	s        Subscriber
	seq      uint64
	epoch    string
	pending  bool
	overflow bool      // held grew past MaxHeldBytes; the subscription fails
	held     []heldPub // live publications held back while pending
	heldSize int       // bytes of held's frames
}

// heldPub is a live publication held back from a pending subscription.
type heldPub struct {
	f     *frame.Prepared
	seq   uint64
	epoch string
}

func newChannel(name string) *channel {
	return &channel{name: name, pos: make(map[Subscriber]int), ready: make(chan struct{})}
}

// addLocked appends s, pending, and returns its index in subs. c.mu must
// be held and s must not be subscribed.
func (c *channel) addLocked(s Subscriber) {
	c.pos[s] = len(c.subs)
	c.subs = append(c.subs, subscription{s: s, pending: true})
	c.n.Store(int32(len(c.subs)))
}

// lookupLocked returns s's subscription, valid until the next change to
// c.subs, or nil. c.mu must be held.
func (c *channel) lookupLocked(s Subscriber) *subscription {
	i, ok := c.pos[s]
	if !ok {
		return nil
	}
	return &c.subs[i]
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

// killLocked marks c dead and returns the cancel function of the node's
// subscription to the Source, to be called once c.mu is released; nil
// when there is none yet (whoever is making it cancels it on seeing c
// dead). c.mu must be held.
func (c *channel) killLocked() (cancel func()) {
	c.dead = true
	cancel, c.cancel = c.cancel, nil
	return cancel
}

// sendLocked hands f, the frame of publication (seq, epoch), to every
// subscription that has not had it yet, and returns how many it reached.
// Pending subscriptions hold f back instead. c.mu must be held.
func (c *channel) sendLocked(f *frame.Prepared, seq uint64, epoch string) int {
	if c.dead {
		return 0 // a delivery from a subscription being cancelled
	}
	n := 0
	for i := range c.subs {
		sub := &c.subs[i]
		if sub.pending {
			sub.hold(f, seq, epoch)
			continue
		}
		if sub.accept(seq, epoch) {
			sub.s.Send(f)
			n++
		}
	}
	return n
}

// hold keeps f back for a pending subscription, or marks it overflowed
// past MaxHeldBytes.
func (sub *subscription) hold(f *frame.Prepared, seq uint64, epoch string) {
	if sub.overflow {
		return
	}
	size := len(f.Wire())
	if sub.heldSize+size > MaxHeldBytes {
		sub.overflow = true
		clear(sub.held)
		sub.held, sub.heldSize = nil, 0
		return
	}
	sub.held = append(sub.held, heldPub{f: f, seq: seq, epoch: epoch})
	sub.heldSize += size
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
