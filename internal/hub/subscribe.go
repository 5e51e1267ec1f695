package hub

import (
	"context"
	"fmt"
)

// Backlog is what a subscription starts with, before live publications.
type Backlog struct {
	// Start, when not nil, is called with the channel locked, before
	// Missed and before any live publication reaches the subscriber: the
	// answer to the subscribe request goes out there, ahead of them. It
	// must not block and must not call the Hub.
	Start func()
	// Missed are publications the subscriber lacks, oldest first (a
	// resume after a reconnect). They are deduplicated like live ones, so
	// they may overlap what arrives live.
	Missed []Publication
}

// Subscribe adds s to channel and returns once s receives the channel's
// live publications. It may block, so call it from a goroutine that may
// wait, never from an event loop: on the channel's first local subscriber
// it subscribes the node to the Source (later subscribers wait for that
// subscription, or for ctx), then it calls backlog, with no lock held,
// for what s starts with (a broker's history: it may wait on a network).
// Live publications that arrive meanwhile are held back for s, up to
// MaxHeldBytes, and sent after the backlog, deduplicated by (Epoch, Seq).
// The resume has no gap when backlog reads a history that records each
// publication before the Source delivers it: a publication it does not
// see is delivered live after the node's subscription was made.
//
// added is false, and backlog is not called, when s is subscribed
// already. On an error s is not subscribed: the Source's error (wrapped),
// backlog's, ctx's, ErrOverflow, ErrUnsubscribed when s was unsubscribed
// meanwhile (UnsubscribeAll as its connection closed),
// ErrTooManySubscriptions, or ErrClosed.
func (h *Hub) Subscribe(ctx context.Context, channel string, s Subscriber, backlog func(context.Context) (Backlog, error)) (added bool, err error) {
	c, added, makeInterest, err := h.join(channel, s)
	if err != nil || !added {
		return false, err
	}
	if makeInterest {
		h.makeInterest(c)
	}
	select {
	case <-c.ready:
	case <-ctx.Done():
		h.leave(c, s)
		return false, ctx.Err()
	}
	c.mu.Lock()
	err = c.err
	c.mu.Unlock()
	if err != nil {
		h.leave(c, s)
		return false, err
	}
	var bl Backlog
	if backlog != nil {
		if bl, err = backlog(ctx); err != nil {
			h.leave(c, s)
			return false, err
		}
	}
	return true, h.start(c, s, bl)
}

// join adds s to channel name as a pending subscription. makeInterest reports
// that s is the first subscriber and must subscribe the node to the
// Source (makeInterest).
func (h *Hub) join(name string, s Subscriber) (c *channel, added, makeInterest bool, err error) {
	for {
		if c, err = h.channelFor(name); err != nil {
			return nil, false, false, err
		}
		c.mu.Lock()
		if c.dead {
			c.mu.Unlock()
			continue // dropped between the lookup and the lock; look again
		}
		if _, dup := c.pos[s]; dup {
			c.mu.Unlock()
			return c, false, false, nil
		}
		h.idxMu.Lock()
		set := h.index[s]
		if h.maxPer > 0 && len(set) >= h.maxPer {
			h.idxMu.Unlock()
			c.mu.Unlock()
			return nil, false, false, ErrTooManySubscriptions
		}
		if set == nil {
			set = make(map[string]*channel, 1)
			h.index[s] = set
		}
		set[c.name] = c
		h.idxMu.Unlock()
		c.addLocked(s)
		makeInterest = !c.interest
		c.interest = true
		h.subscriptions.Add(1)
		c.mu.Unlock()
		return c, true, makeInterest, nil
	}
}

// makeInterest subscribes the node to c on the Source and closes c.ready.
// Deliveries are bound to c: once c is dead (its last subscriber left, and
// a later one made a new channel) they reach nobody, so a cancelled
// subscription's last deliveries cannot double those of its successor.
// A failed subscription kills c, so the next Subscribe tries again.
func (h *Hub) makeInterest(c *channel) {
	var cancel func()
	var err error
	if h.src != nil {
		cancel, err = h.src.Subscribe(c.name, func(p Publication) {
			h.publications.Add(1)
			h.publishTo(c, p)
		})
		if err != nil {
			err = fmt.Errorf("hub: subscribe to %q: %w", c.name, err)
		}
	}
	c.mu.Lock()
	switch {
	case err != nil:
		c.err = err
		if !c.dead {
			c.killLocked()
			h.dropLocked(c)
		}
	case c.dead:
		// Everyone left, or the Hub closed, while it was being made.
	default:
		c.cancel, cancel = cancel, nil
	}
	close(c.ready)
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// start sends s what it starts with and makes its subscription live.
func (h *Hub) start(c *channel, s Subscriber, bl Backlog) error {
	c.mu.Lock()
	sub := c.lookupLocked(s)
	if sub == nil {
		c.mu.Unlock()
		return ErrUnsubscribed
	}
	if sub.overflow {
		h.leaveAndUnlock(c, s)
		return ErrOverflow
	}
	if bl.Start != nil {
		bl.Start()
	}
	var n uint64
	for _, p := range bl.Missed {
		if sub.accept(p.Seq, p.Epoch) {
			s.Send(h.prepare(c.name, p))
			n++
		}
	}
	for _, p := range sub.held {
		if sub.accept(p.seq, p.epoch) {
			s.Send(p.f)
			n++
		}
	}
	clear(sub.held)
	sub.held, sub.heldSize, sub.pending = nil, 0, false
	c.mu.Unlock()
	h.deliveries.Add(n)
	return nil
}

// Unsubscribe removes s from channel and reports whether it was
// subscribed. When s was the channel's last local subscriber the node's
// subscription to the Source is cancelled. It never blocks: call it from
// anywhere, an event loop included.
func (h *Hub) Unsubscribe(channel string, s Subscriber) (removed bool) {
	c := h.lookup(channel)
	if c == nil {
		return false
	}
	return h.leave(c, s)
}

// UnsubscribeAll removes s from every channel, as when its connection
// closes, and returns how many subscriptions it ended. It costs O(number
// of channels of s) and never blocks. A Subscribe of s that is still
// running fails with ErrUnsubscribed, unless it joins after
// UnsubscribeAll: stop subscribing s first.
func (h *Hub) UnsubscribeAll(s Subscriber) (n int) {
	h.idxMu.Lock()
	set := h.index[s]
	delete(h.index, s)
	h.idxMu.Unlock()
	for _, c := range set {
		c.mu.Lock()
		if c.lookupLocked(s) == nil {
			c.mu.Unlock()
			continue
		}
		cancel := h.leaveLocked(c, s)
		c.mu.Unlock()
		n++
		if cancel != nil {
			cancel()
		}
	}
	return n
}

// leave removes s from c, as Unsubscribe does.
func (h *Hub) leave(c *channel, s Subscriber) bool {
	c.mu.Lock()
	if c.lookupLocked(s) == nil {
		c.mu.Unlock()
		return false
	}
	h.leaveAndUnlock(c, s)
	return true
}

// leaveAndUnlock removes s, which must be subscribed, from c, releases
// c.mu, forgets that s is subscribed to c and, when c was left empty,
// cancels the node's subscription to it. c.mu must be held on entry.
func (h *Hub) leaveAndUnlock(c *channel, s Subscriber) {
	cancel := h.leaveLocked(c, s)
	c.mu.Unlock()
	h.unindex(s, c)
	if cancel != nil {
		cancel()
	}
}

// leaveLocked removes s, which must be subscribed, from c and, when c is
// left empty, drops it and returns the cancel function of the node's
// subscription to the Source, to be called once c.mu is released. c.mu
// must be held.
func (h *Hub) leaveLocked(c *channel, s Subscriber) (cancel func()) {
	c.removeLocked(s)
	h.subscriptions.Add(-1)
	if len(c.subs) > 0 || c.dead {
		return nil
	}
	cancel = c.killLocked()
	h.dropLocked(c)
	return cancel
}

// unindex forgets that s is subscribed to c.
func (h *Hub) unindex(s Subscriber, c *channel) {
	h.idxMu.Lock()
	if set := h.index[s]; set[c.name] == c {
		delete(set, c.name)
		if len(set) == 0 {
			delete(h.index, s)
		}
	}
	h.idxMu.Unlock()
}
