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
// Memory stays bounded when clients publish on ever new channel names:
// once more than MaxIdleChannels channels exist, the ones nobody is
// subscribed to are dropped with their history. A dropped channel that
// comes back starts a new epoch, so a client resuming from before is told
// that it cannot be recovered.
type MemoryBroker struct {
	opts MemoryBrokerOptions

	mu       sync.Mutex // guards channels and closed
	channels map[string]*memoryChannel
	closed   bool
}

// MemoryBrokerOptions tune a MemoryBroker. The zero value is ready to use.
type MemoryBrokerOptions struct {
	// HistorySize is how many of its latest publications each channel
	// keeps for resuming clients. Zero means 128.
	HistorySize int
	// MaxIdleChannels is how many channels may exist before those without
	// subscribers are dropped. Zero means 10,000.
	MaxIdleChannels int
}

// memoryChannel is one channel's state. Lock order: publishMu, then mu;
// mu is never held while deliver runs, so History can be called by code
// that holds a lock deliver also takes.
type memoryChannel struct {
	publishMu sync.Mutex // serialises Publish, so deliveries follow Seq order

	mu    sync.Mutex // guards the fields below
	epoch string     // random, new each time the channel's state is created
	seq   uint64
	ring  []Publication // the last publications; ring[(seq-1)%cap] is the newest
	subs  map[*memorySub]struct{}
	gone  bool // dropped from the broker's map: look the channel up again
}

type memorySub struct{ deliver func(Publication) }

// NewMemoryBroker returns an in-memory broker.
func NewMemoryBroker(opts MemoryBrokerOptions) *MemoryBroker {
	if opts.HistorySize <= 0 {
		opts.HistorySize = 128
	}
	if opts.MaxIdleChannels <= 0 {
		opts.MaxIdleChannels = 10_000
	}
	return &MemoryBroker{opts: opts, channels: make(map[string]*memoryChannel)}
}

// lockChannel returns the live state of channel name with its mu held,
// creating it if needed. With publish set it holds publishMu too.
func (b *MemoryBroker) lockChannel(name string, publish bool) (*memoryChannel, error) {
	for {
		ch, err := b.channel(name)
		if err != nil {
			return nil, err
		}
		if publish {
			ch.publishMu.Lock()
		}
		ch.mu.Lock()
		if !ch.gone {
			return ch, nil
		}
		ch.mu.Unlock()
		if publish {
			ch.publishMu.Unlock()
		}
	}
}

func (b *MemoryBroker) channel(name string) (*memoryChannel, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrServerClosed
	}
	ch := b.channels[name]
	if ch == nil {
		if len(b.channels) >= b.opts.MaxIdleChannels {
			b.dropIdleLocked()
		}
		ch = &memoryChannel{epoch: randomID(), subs: make(map[*memorySub]struct{})}
		b.channels[name] = ch
	}
	return ch, nil
}

// dropIdleLocked drops every channel without subscribers. b.mu must be held.
func (b *MemoryBroker) dropIdleLocked() {
	for name, ch := range b.channels {
		ch.mu.Lock()
		if len(ch.subs) == 0 {
			ch.gone = true
			delete(b.channels, name)
		}
		ch.mu.Unlock()
	}
}

// Publish implements Broker.
func (b *MemoryBroker) Publish(ctx context.Context, channel string, data json.RawMessage) (Publication, error) {
	ch, err := b.lockChannel(channel, true)
	if err != nil {
		return Publication{}, err
	}
	defer ch.publishMu.Unlock()
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

// Subscribe implements Broker.
func (b *MemoryBroker) Subscribe(channel string, deliver func(Publication)) (func(), error) {
	// Holding publishMu makes the subscription start between two
	// publications, never in the middle of one's deliveries.
	ch, err := b.lockChannel(channel, true)
	if err != nil {
		return nil, err
	}
	s := &memorySub{deliver: deliver}
	ch.subs[s] = struct{}{}
	ch.mu.Unlock()
	ch.publishMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			ch.publishMu.Lock()
			ch.mu.Lock()
			delete(ch.subs, s)
			ch.mu.Unlock()
			ch.publishMu.Unlock()
		})
	}, nil
}

// History implements Broker.
func (b *MemoryBroker) History(ctx context.Context, channel string, since *Position) (History, error) {
	ch, err := b.lockChannel(channel, false)
	if err != nil {
		return History{}, err
	}
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
