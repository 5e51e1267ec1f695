package hub

import (
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/wsgate/wsgate/internal/envelope"
	"github.com/wsgate/wsgate/internal/frame"
	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// Subscriber receives a channel's publications. Send must not block (it
// enqueues); it is called with the channel's lock held, which is what keeps
// one channel's publications in order for each subscriber. Send must not
// call the Hub: a subscriber too slow to keep up should mark itself and be
// unsubscribed from another goroutine. Send takes a shared reference to f and
// must not modify it.
//
// Subscribers are compared with ==, as map keys: implementations must be
// comparable, and a pointer type is the usual choice.
type Subscriber interface {
	Send(f *frame.Prepared)
}

// Publication is one message on a channel. Seq numbers a channel's
// publications within an Epoch, from 1; a Seq of 0 means "not sequenced":
// such a publication is never deduplicated. Data is valid JSON; nil is sent
// as null.
type Publication struct {
	Seq   uint64
	Epoch string
	Data  json.RawMessage
}

// Stats is a snapshot of a Hub's size and traffic.
type Stats struct {
	Channels      int    // channels with at least one subscriber
	Subscriptions int    // subscriptions over all channels
	Publications  uint64 // Publish calls since New
	Deliveries    uint64 // frames handed to Send since New, backlogs included
}

// Hub maps channel names to their subscribers. It is safe for concurrent
// use. The zero value is not usable; call New.
type Hub struct {
	codec *wsflate.Codec // nil: publications are never compressed

	mu       sync.RWMutex
	channels map[string]*channel // guarded by mu

	idxMu sync.Mutex
	index map[Subscriber]map[string]*channel // each subscriber's channels; guarded by idxMu

	subscriptions atomic.Int64
	publications  atomic.Uint64
	deliveries    atomic.Uint64
}

// New returns an empty Hub. codec, when not nil, gives every publication
// frame a deflated twin (frame.NewDeflatable) built at most once per
// window, on the first subscriber that negotiated permessage-deflate; the
// Hub does not own it.
func New(codec *wsflate.Codec) *Hub {
	return &Hub{
		codec:    codec,
		channels: make(map[string]*channel),
		index:    make(map[Subscriber]map[string]*channel),
	}
}

// Subscribe adds s to channel. If s is already subscribed it changes nothing
// and returns added == false; backlog is not called then.
//
// backlog, when non-nil, is called with the channel locked before any live
// publication can reach s; what it returns is sent to s first, in order
// (resume after a reconnect), subject to the same deduplication as live
// publications. It must not call the Hub. The resume has no gap when
// whoever calls Publish first records each publication where backlog reads
// it (a broker's history): a publication backlog does not see is then
// published after s was added.
//
// first reports that s is the channel's first subscriber on this hub: the
// caller may need to subscribe the node to the channel elsewhere (a broker).
// A channel that loses its last subscriber is dropped, so a later Subscribe
// reports first again. The Hub decides first and last (see Unsubscribe)
// under the channel's lock, but cannot order what callers do with them: a
// caller acting on first and last concurrently must serialize that per
// channel itself.
func (h *Hub) Subscribe(channel string, s Subscriber, backlog func() []Publication) (first, added bool) {
	for {
		c := h.channelFor(channel)
		first, added, ok := h.subscribe(c, s, backlog)
		if ok {
			return first, added
		}
		// c was dropped between the lookup and the lock; look again.
	}
}

// subscribe adds s to c. ok is false when c has been dropped from the hub.
func (h *Hub) subscribe(c *channel, s Subscriber, backlog func() []Publication) (first, added, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return false, false, false
	}
	if _, dup := c.pos[s]; dup {
		return false, false, true
	}
	first = len(c.subs) == 0
	sub := c.addLocked(s)
	h.subscriptions.Add(1)
	h.idxMu.Lock()
	set := h.index[s]
	if set == nil {
		set = make(map[string]*channel, 1)
		h.index[s] = set
	}
	set[c.name] = c
	h.idxMu.Unlock()

	if backlog != nil {
		var n uint64
		for _, p := range backlog() {
			if sub.accept(p.Seq, p.Epoch) {
				s.Send(h.prepare(c.name, p))
				n++
			}
		}
		h.deliveries.Add(n)
	}
	return first, true, true
}

// Unsubscribe removes s from channel. removed reports that s was subscribed;
// last reports that the channel has no subscriber left and was dropped.
func (h *Hub) Unsubscribe(channel string, s Subscriber) (removed, last bool) {
	c := h.lookup(channel)
	if c == nil {
		return false, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.removeLocked(s) {
		return false, false
	}
	h.idxMu.Lock()
	if set := h.index[s]; set[channel] == c {
		delete(set, channel)
		if len(set) == 0 {
			delete(h.index, s)
		}
	}
	h.idxMu.Unlock()
	return true, h.afterRemoveLocked(c)
}

// UnsubscribeAll removes s from every channel, as when its connection
// closes, and returns the channels it left empty (dropped), in no particular
// order. It costs O(number of channels of s). A Subscribe of s that runs
// concurrently with UnsubscribeAll may survive it: stop subscribing s first.
func (h *Hub) UnsubscribeAll(s Subscriber) (emptied []string) {
	h.idxMu.Lock()
	set := h.index[s]
	delete(h.index, s)
	h.idxMu.Unlock()
	for name, c := range set {
		c.mu.Lock()
		if c.removeLocked(s) && h.afterRemoveLocked(c) {
			emptied = append(emptied, name)
		}
		c.mu.Unlock()
	}
	return emptied
}

// afterRemoveLocked accounts for a removed subscription and drops c from the
// hub when it is empty, reporting whether it did. c.mu must be held.
func (h *Hub) afterRemoveLocked(c *channel) (dropped bool) {
	h.subscriptions.Add(-1)
	if len(c.subs) > 0 {
		return false
	}
	c.dead = true
	h.mu.Lock()
	if h.channels[c.name] == c {
		delete(h.channels, c.name)
	}
	h.mu.Unlock()
	return true
}

// Publish delivers p to channel's subscribers and returns how many got it.
// It builds the frame only if there is at least one subscriber, and builds
// it once: every subscriber is sent the same *frame.Prepared. A subscription
// already sent a publication at or after p (same Epoch, Seq <= its last) is
// skipped; a different Epoch resets what the subscription remembers.
func (h *Hub) Publish(channel string, p Publication) (delivered int) {
	h.publications.Add(1)
	c := h.lookup(channel)
	if c == nil || c.n.Load() == 0 {
		return 0
	}
	f := h.prepare(channel, p) // outside the lock: encoding may copy a large payload
	c.mu.Lock()
	delivered = c.sendLocked(f, p.Seq, p.Epoch)
	c.mu.Unlock()
	h.deliveries.Add(uint64(delivered))
	return delivered
}

// Subscribers returns the number of subscribers of channel.
func (h *Hub) Subscribers(channel string) int {
	if c := h.lookup(channel); c != nil {
		return int(c.n.Load())
	}
	return 0
}

// Stats returns the hub's current counts.
func (h *Hub) Stats() Stats {
	h.mu.RLock()
	n := len(h.channels)
	h.mu.RUnlock()
	return Stats{
		Channels:      n,
		Subscriptions: int(h.subscriptions.Load()),
		Publications:  h.publications.Load(),
		Deliveries:    h.deliveries.Load(),
	}
}

func (h *Hub) lookup(name string) *channel {
	h.mu.RLock()
	c := h.channels[name]
	h.mu.RUnlock()
	return c
}

// channelFor returns the live channel called name, creating it if needed.
func (h *Hub) channelFor(name string) *channel {
	if c := h.lookup(name); c != nil {
		return c
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.channels[name]
	if c == nil {
		c = newChannel(name)
		h.channels[name] = c
	}
	return c
}

// stackFrame is the size of the buffer prepare encodes into before the
// frame copies it; larger publications are encoded on the heap.
const stackFrame = 1024

// prepare encodes p as a publication on channel, in a text frame that
// can be deflated with h's codec.
func (h *Hub) prepare(channel string, p Publication) *frame.Prepared {
	var buf [stackFrame]byte
	b := envelope.AppendPublication(buf[:0], channel, p.Seq, p.Data)
	return frame.NewDeflatable(h.codec, ws.OpText, b)
}
