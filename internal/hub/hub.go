package hub

import (
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/wsgate/wsgate/internal/envelope"
	"github.com/wsgate/wsgate/internal/frame"
	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// Errors Subscribe returns besides the Source's and the backlog's.
var (
	// ErrClosed: the Hub has been closed.
	ErrClosed = errors.New("hub: closed")
	// ErrOverflow: more than MaxHeldBytes of live publications arrived
	// while the subscriber's backlog was being read; it was not
	// subscribed. Subscribing again usually succeeds.
	ErrOverflow = errors.New("hub: publications arrived faster than the backlog was read")
	// ErrUnsubscribed: the subscriber was unsubscribed (UnsubscribeAll,
	// say, as its connection closed) before its Subscribe completed.
	ErrUnsubscribed = errors.New("hub: unsubscribed before the subscription completed")
	// ErrTooManySubscriptions: the subscriber has Options.MaxPerSubscriber
	// subscriptions already.
	ErrTooManySubscriptions = errors.New("hub: too many subscriptions")
)

// MaxHeldBytes bounds the live publications, in bytes of their frames,
// that one subscription holds back while its backlog is read; past it
// the subscription fails with ErrOverflow.
const MaxHeldBytes = 1 << 20

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

// Source is where a node's publications come from: the broker that
// numbers them and carries them between nodes. The Hub subscribes the
// node to a channel on the channel's first local subscriber and cancels
// on its last, so a node receives only the channels someone here reads.
//
// Subscribe may block until the subscription is in place (a network round
// trip); it is called on the goroutine of the subscriber that needs it,
// never with a lock held. From its return on, deliver must be called for
// every publication of channel, in Seq order, and must not be called
// concurrently with itself. The cancel function must return at once (it
// may finish in the background): the Hub calls it when a channel's last
// subscriber leaves, which may be on an event loop.
type Source interface {
	Subscribe(channel string, deliver func(Publication)) (cancel func(), err error)
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
	Publications  uint64 // publications received (Source deliveries and Publish calls) since New
	Deliveries    uint64 // frames handed to Send since New, backlogs included
}

// Options configure a Hub. The zero value is ready to use.
type Options struct {
	// Codec, when not nil, gives every publication frame a deflated twin
	// (frame.NewDeflatable) built at most once per window, on the first
	// subscriber that negotiated permessage-deflate. The Hub does not own
	// it.
	Codec *wsflate.Codec
	// Source, when not nil, is subscribed to per channel while the
	// channel has local subscribers. Nil: publications arrive only
	// through Publish.
	Source Source
	// MaxPerSubscriber caps the channels one subscriber may be subscribed
	// to (pending subscriptions included); Subscribe past it fails with
	// ErrTooManySubscriptions. Zero means no cap.
	MaxPerSubscriber int
}

// Hub maps channel names to their subscribers and holds this node's
// subscriptions to the Source. It is safe for concurrent use. The zero
// value is not usable; call New.
type Hub struct {
	codec  *wsflate.Codec // nil: publications are never compressed
	src    Source         // nil: publications come only through Publish
	maxPer int            // 0: no cap

	mu       sync.RWMutex
	channels map[string]*channel // guarded by mu
	closed   bool                // guarded by mu

	idxMu sync.Mutex
	index map[Subscriber]map[string]*channel // each subscriber's channels; guarded by idxMu

	subscriptions atomic.Int64
	publications  atomic.Uint64
	deliveries    atomic.Uint64
}

// New returns an empty Hub configured by opts.
func New(opts Options) *Hub {
	return &Hub{
		codec:    opts.Codec,
		src:      opts.Source,
		maxPer:   max(opts.MaxPerSubscriber, 0),
		channels: make(map[string]*channel),
		index:    make(map[Subscriber]map[string]*channel),
	}
}

// Publish delivers p to channel's local subscribers and returns how many
// got it, as a delivery from the Source does. It is for publications that
// do not come through a Source; with a Source, publish through it.
func (h *Hub) Publish(channel string, p Publication) (delivered int) {
	h.publications.Add(1)
	c := h.lookup(channel)
	if c == nil {
		return 0
	}
	return h.publishTo(c, p)
}

// publishTo hands p to c's subscribers. It builds the frame only if there
// is at least one subscriber, and builds it once: every subscriber is sent
// the same *frame.Prepared. A subscription already sent a publication at
// or after p (same Epoch, Seq <= its last) is skipped; a different Epoch
// resets what the subscription remembers. A subscription whose backlog is
// being read holds p back (channel.go).
func (h *Hub) publishTo(c *channel, p Publication) int {
	if c.n.Load() == 0 {
		return 0
	}
	f := h.prepare(c.name, p) // outside the lock: encoding may copy a large payload
	c.mu.Lock()
	delivered := c.sendLocked(f, p.Seq, p.Epoch)
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

// Close drops every channel and cancels the node's subscriptions to the
// Source. Subscribe fails with ErrClosed afterwards; Unsubscribe and
// UnsubscribeAll still work (they find nothing).
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	chans := h.channels
	h.channels = make(map[string]*channel)
	h.mu.Unlock()
	h.idxMu.Lock()
	clear(h.index)
	h.idxMu.Unlock()
	for _, c := range chans {
		c.mu.Lock()
		cancel := c.killLocked()
		h.subscriptions.Add(-int64(len(c.subs)))
		c.subs, c.pos = nil, nil
		c.n.Store(0)
		c.mu.Unlock()
		if cancel != nil {
			cancel()
		}
	}
}

func (h *Hub) lookup(name string) *channel {
	h.mu.RLock()
	c := h.channels[name]
	h.mu.RUnlock()
	return c
}

// channelFor returns the live channel called name, creating it if needed.
func (h *Hub) channelFor(name string) (*channel, error) {
	if c := h.lookup(name); c != nil {
		return c, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	c := h.channels[name]
	if c == nil {
		c = newChannel(name)
		h.channels[name] = c
	}
	return c, nil
}

// dropLocked removes c from the hub's map, if it is still there. c.mu
// must be held.
func (h *Hub) dropLocked(c *channel) {
	h.mu.Lock()
	if h.channels[c.name] == c {
		delete(h.channels, c.name)
	}
	h.mu.Unlock()
}

// stackFrame is the size of the buffer prepare encodes into before the
// frame copies it; larger publications are encoded on the heap.
const stackFrame = 1024

// prepare encodes p as a publication on channel, in a text frame that
// can be deflated with h's codec.
func (h *Hub) prepare(channel string, p Publication) *frame.Prepared {
	var buf [stackFrame]byte
	b := envelope.AppendPublication(buf[:0], channel, p.Seq, p.Epoch, p.Data)
	return frame.NewDeflatable(h.codec, ws.OpText, b)
}
