package wsgate

import (
	"context"
	"encoding/json"
	"sync"
)

// MemoryBroker is the Broker of a single node: publications stay in this
// process. Each channel keeps its last publications (HistorySize) for
// clients that resume. It is safe for concurrent use.
//
// Memory stays bounded when clients publish on ever new channel names: at
// most MaxIdleChannels channels without subscribers are kept, and past
// that the one idle the longest is dropped with its history, in constant
// time whatever the number of channels. A dropped channel that comes back
// starts a new epoch, so a client resuming from before is told that it
// cannot be recovered.
type MemoryBroker struct {
	opts MemoryBrokerOptions

	// mu guards channels, closed, the idle list and every channel's
	// users, idle links and gone flag. Lock order: a channel's publishMu,
	// then its mu, then b.mu; b.mu is never held while a channel's lock
	// is taken.
	mu        sync.Mutex
	channels  map[string]*memoryChannel
	closed    bool
	idleFirst *memoryChannel // idle the longest: dropped first
	idleLast  *memoryChannel
	idleN     int
}

// MemoryBrokerOptions tune a MemoryBroker. The zero value is ready to use.
type MemoryBrokerOptions struct {
	// HistorySize is how many of its latest publications each channel
	// keeps for resuming clients. Zero means DefaultHistorySize (128).
	HistorySize int
	// MaxIdleChannels is how many channels without subscribers are kept
	// (with their history); past it the one idle the longest is dropped.
	// Zero means 10,000.
	MaxIdleChannels int
}

// memoryChannel is one channel's state. Lock order: publishMu, then mu;
// mu is never held while deliver runs, so History can be called by code
// that holds a lock deliver also takes.
type memoryChannel struct {
	name      string
	publishMu sync.Mutex // serialises Publish, so deliveries follow Seq order

	mu    sync.Mutex // guards the fields below
	epoch string     // random, new each time the channel's state is created
	seq   uint64
	ring  []Publication // the last publications; ring[(seq-1)%cap] is the newest
	subs  map[*memorySub]struct{}

	// Guarded by the broker's mu. users counts subscriptions and the
	// calls in progress on the channel; a channel with none is idle, on
	// the broker's idle list, and may be dropped (gone).
	users              int
	idlePrev, idleNext *memoryChannel
	gone               bool
}

type memorySub struct{ deliver func(Publication) }

// DefaultHistorySize is how many of its latest publications a channel
// keeps for resuming clients when a broker's options say nothing.
const DefaultHistorySize = 128

// NewMemoryBroker returns an in-memory broker.
func NewMemoryBroker(opts MemoryBrokerOptions) *MemoryBroker {
	if opts.HistorySize <= 0 {
		opts.HistorySize = DefaultHistorySize
	}
	if opts.MaxIdleChannels <= 0 {
		opts.MaxIdleChannels = 10_000
	}
	return &MemoryBroker{opts: opts, channels: make(map[string]*memoryChannel)}
}

// use returns the live state of channel name, creating it if needed, and
// counts one user of it, so it is not dropped until release.
func (b *MemoryBroker) use(name string) (*memoryChannel, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrServerClosed
	}
	ch := b.channels[name]
	if ch == nil {
		ch = &memoryChannel{name: name, epoch: randomID(), subs: make(map[*memorySub]struct{})}
		b.channels[name] = ch
	} else if ch.users == 0 {
		b.unlinkIdleLocked(ch)
	}
	ch.users++
	return ch, nil
}

// release undoes one use. A channel left without users joins the idle
// list, and the list is cut back to MaxIdleChannels from its oldest end.
func (b *MemoryBroker) release(ch *memoryChannel) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ch.users--; ch.users > 0 || ch.gone {
		return
	}
	ch.idlePrev, ch.idleNext = b.idleLast, nil
	if b.idleLast != nil {
		b.idleLast.idleNext = ch
	} else {
		b.idleFirst = ch
	}
	b.idleLast = ch
	b.idleN++
	for b.idleN > b.opts.MaxIdleChannels {
		old := b.idleFirst
		b.unlinkIdleLocked(old)
		old.gone = true
		delete(b.channels, old.name)
	}
}

// unlinkIdleLocked takes ch off the idle list. b.mu must be held.
func (b *MemoryBroker) unlinkIdleLocked(ch *memoryChannel) {
	if ch.idlePrev != nil {
		ch.idlePrev.idleNext = ch.idleNext
	} else {
		b.idleFirst = ch.idleNext
	}
	if ch.idleNext != nil {
		ch.idleNext.idlePrev = ch.idlePrev
	} else {
		b.idleLast = ch.idlePrev
	}
	ch.idlePrev, ch.idleNext = nil, nil
	b.idleN--
}

// Publish implements Broker.
func (b *MemoryBroker) Publish(ctx context.Context, channel string, data json.RawMessage) (Publication, error) {
	ch, err := b.use(channel)
	if err != nil {
		return Publication{}, err
	}
	defer b.release(ch)
	ch.publishMu.Lock()
	defer ch.publishMu.Unlock()
	ch.mu.Lock()
	ch.seq++
	p := Publication{Channel: channel, Seq: ch.seq, Epoch: ch.epoch, Data: data}
	if len(ch.ring) < b.opts.HistorySize {
		ch.ring = append(ch.ring, p)
	} else {
		ch.ring[(p.Seq-1)%uint64(b.opts.HistorySize)] = p
	}
	subs := make([]*memorySub, 0, len(ch.subs))
	for s := range ch.subs {
		subs = append(subs, s)
	}
	ch.mu.Unlock()
	for _, s := range subs {
		s.deliver(p)
	}
	return p, nil
}

// Subscribe implements Broker. It never blocks for long: it waits at
// most for a Publish of the same channel to finish its deliveries, so the
// subscription starts between two publications.
func (b *MemoryBroker) Subscribe(channel string, deliver func(Publication)) (func(), error) {
	ch, err := b.use(channel) // released by cancel
	if err != nil {
		return nil, err
	}
	s := &memorySub{deliver: deliver}
	ch.publishMu.Lock()
	ch.mu.Lock()
	ch.subs[s] = struct{}{}
	ch.mu.Unlock()
	ch.publishMu.Unlock()
	// cancel takes only the short locks, never publishMu, so it returns
	// at once even while a publication is being delivered (the Broker
	// contract: it is called from event loops). That delivery may still
	// reach deliver after cancel returns; none started later does.
	var once sync.Once
	return func() {
		once.Do(func() {
			ch.mu.Lock()
			delete(ch.subs, s)
			ch.mu.Unlock()
			b.release(ch)
		})
	}, nil
}

// History implements Broker.
func (b *MemoryBroker) History(ctx context.Context, channel string, since *Position) (History, error) {
	ch, err := b.use(channel)
	if err != nil {
		return History{}, err
	}
	defer b.release(ch)
	ch.mu.Lock()
	defer ch.mu.Unlock()
	h := History{Position: Position{Seq: ch.seq, Epoch: ch.epoch}}
	if since == nil {
		return h, nil
	}
	oldest := ch.seq - uint64(len(ch.ring)) + 1 // the oldest retained publication
	sameEpoch := since.Epoch == ch.epoch && since.Seq <= ch.seq
	from := since.Seq + 1 // the first publication the caller lacks
	if !sameEpoch {
		from = oldest // another epoch: everything retained is news
	}
	h.Recovered = sameEpoch && from >= oldest
	from = max(from, oldest)
	for seq := from; seq <= ch.seq; seq++ {
		h.Missed = append(h.Missed, ch.ring[(seq-1)%uint64(b.opts.HistorySize)])
	}
	return h, nil
}

// Close implements Broker. Publish, Subscribe and History fail afterwards.
func (b *MemoryBroker) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}
