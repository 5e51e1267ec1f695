package natsbroker

import (
	"context"
	"sync"

	"github.com/wsgate/wsgate"
)

// History implements wsgate.Broker. Without since it reads the channel's
// last publication (one direct get); with since it reads what the stream
// retains of the channel (one batched direct get) and returns what came
// after since. Identical reads that wait at the same time share one
// JetStream read (see coalescer). A channel that is live only (a Broker
// without JetStream, the server's '$' channels) has position 0 and never
// recovers a resume.
//
// Recovered is true only when since is in the channel's current epoch
// and the stream still holds every publication after it. A channel with
// nothing retained has position 0 with no epoch; a client that resumes
// from it is told recovered:false, as publications may have come and
// expired meanwhile.
func (b *Broker) History(ctx context.Context, channel string, since *wsgate.Position) (wsgate.History, error) {
	if err := b.usable(); err != nil {
		return wsgate.History{}, err
	}
	if b.liveOnly(channel) {
		return wsgate.History{}, nil
	}
	subj := b.storePrefix + encodeToken(channel)
	ps, err := b.reads.do(ctx, readKey{subj: subj, all: since != nil})
	if err != nil {
		return wsgate.History{}, err
	}
	return historyOf(channel, ps, since), nil
}

// historyOf is the History of channel whose retained publications are
// ps, oldest first, for a client at since.
func historyOf(channel string, ps []stored, since *wsgate.Position) wsgate.History {
	var h wsgate.History
	if len(ps) == 0 {
		return h
	}
	last := ps[len(ps)-1]
	h.Position = wsgate.Position{Seq: last.seq, Epoch: last.epoch}
	if since == nil {
		return h
	}
	// Only the last epoch counts: an older one's publications can be
	// retained only if the stream was made anew under them.
	first := len(ps) - 1
	for first > 0 && ps[first-1].epoch == last.epoch && ps[first-1].seq < ps[first].seq {
		first--
	}
	cur := ps[first:]
	oldest := cur[0].seq
	same := since.Epoch == last.epoch && since.Seq <= last.seq
	from := oldest // another epoch: everything retained is news
	if same {
		from = since.Seq + 1
	}
	h.Recovered = same && from >= oldest
	for _, p := range cur {
		if p.seq >= from {
			h.Missed = append(h.Missed, wsgate.Publication{Channel: channel, Seq: p.seq, Epoch: p.epoch, Data: p.data})
		}
	}
	return h
}

// readKey names a history read: the channel's last publication, or all
// it retains.
type readKey struct {
	subj string
	all  bool
}

// readCall is one read and the callers waiting for it.
type readCall struct {
	done chan struct{} // closed when ps and err are set
	ps   []stored
	err  error
	next *readCall // the callers that came while it ran: they need a later read
}

// coalescer makes concurrent identical history reads share one
// JetStream read, as when many clients of a channel reconnect at once.
// A caller never shares a read that began before it called: the read
// must see every publication stored before the caller's Subscribe
// returned. So callers that come while a read runs wait for the next
// one, which starts when it ends and serves them all: however many wait,
// a channel has at most one read running and one waiting.
//
// Each read runs on a goroutine of its own, owned by the Broker, bounded
// by Options.RequestTimeout, so a caller whose context ends leaves
// without cutting the read short for the others.
type coalescer struct {
	b       *Broker
	readFn  func(context.Context, readKey) ([]stored, error) // c.read; tests slow it down
	mu      sync.Mutex
	running map[readKey]*readCall // guarded by mu
}

func (c *coalescer) init(b *Broker) {
	c.b = b
	c.readFn = c.read
	c.running = make(map[readKey]*readCall)
}

// do returns the result of a read of k that begins after do was called.
func (c *coalescer) do(ctx context.Context, k readKey) ([]stored, error) {
	c.mu.Lock()
	call := c.running[k]
	switch {
	case call == nil:
		call = &readCall{done: make(chan struct{})}
		c.running[k] = call
		c.startLocked(k, call)
	case call.next == nil:
		call.next = &readCall{done: make(chan struct{})}
		call = call.next
	default:
		call = call.next
		c.b.stats.coalesced.Add(1)
	}
	c.mu.Unlock()
	select {
	case <-call.done:
		return call.ps, call.err
	case <-ctx.Done():
		return nil, ctxOr(ctx, nil)
	}
}

// startLocked runs call's read. c.mu must be held.
func (c *coalescer) startLocked(k readKey, call *readCall) {
	c.b.wg.Add(1)
	go func() {
		defer c.b.wg.Done()
		ctx, cancel := c.b.bound(c.b.ctx)
		call.ps, call.err = c.readFn(ctx, k)
		cancel()
		c.mu.Lock()
		if call.next != nil {
			c.running[k] = call.next
			c.startLocked(k, call.next)
		} else {
			delete(c.running, k)
		}
		c.mu.Unlock()
		close(call.done)
	}()
}

func (c *coalescer) read(ctx context.Context, k readKey) ([]stored, error) {
	if k.all {
		return c.b.readAll(ctx, k.subj)
	}
	p, found, err := c.b.readLast(ctx, k.subj)
	if !found || err != nil {
		return nil, err
	}
	return []stored{p}, nil
}
