package wsgate

import (
	"context"
	"encoding/json"
	"sync"
)

// MemoryBroker is the Broker of a single node: publications stay in this
// process. Each channel keeps its last HistorySize publications for
// clients that resume. It is safe for concurrent use.
type MemoryBroker struct {
	epoch   string
	history int

	mu       sync.Mutex // guards channels and closed
	channels map[string]*memoryChannel
	closed   bool
}

// memoryChannel is one channel's state. Lock order: publishMu, then mu;
// mu is never held while deliver runs, so History can be called by code
// that holds a lock deliver also takes.
type memoryChannel struct {
	publishMu sync.Mutex // serialises Publish, so deliveries follow Seq order

	mu       sync.Mutex // guards the fields below
	seq      uint64
	ring     []Publication // the last publications, ring[(seq-1)%len] is the newest
	subs     map[*memorySub]struct{}
	refCount int // subscriptions plus callers inside Publish/History
}

type memorySub struct{ deliver func(Publication) }

// NewMemoryBroker returns a broker whose channels each keep historySize
// publications for resuming clients. historySize <= 0 means 128.
func NewMemoryBroker(historySize int) *MemoryBroker {
	if historySize <= 0 {
		historySize = 128
	}
	return &MemoryBroker{
		epoch:    randomID(),
		history:  historySize,
		channels: make(map[string]*memoryChannel),
	}
}

// Epoch is the epoch of every publication of this broker: random, new
// each time the process starts.
func (b *MemoryBroker) Epoch() string { return b.epoch }

func (b *MemoryBroker) channel(name string) (*memoryChannel, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrServerClosed
	}
	ch := b.channels[name]
	if ch == nil {
		ch = &memoryChannel{subs: make(map[*memorySub]struct{})}
		b.channels[name] = ch
	}
	return ch, nil
}

// Publish implements Broker.
func (b *MemoryBroker) Publish(ctx context.Context, channel string, data json.RawMessage) (Publication, error) {
	ch, err := b.channel(channel)
	if err != nil {
		return Publication{}, err
	}
	ch.publishMu.Lock()
	defer ch.publishMu.Unlock()
	ch.mu.Lock()
	ch.seq++
	p := Publication{Channel: channel, Seq: ch.seq, Epoch: b.epoch, Data: data}
	if len(ch.ring) < b.history {
		ch.ring = append(ch.ring, p)
	} else {
		ch.ring[(p.Seq-1)%uint64(b.history)] = p
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
	ch, err := b.channel(channel)
	if err != nil {
		return nil, err
	}
	s := &memorySub{deliver: deliver}
	// Taking publishMu makes the subscription start between two
	// publications, never in the middle of one's deliveries.
	ch.publishMu.Lock()
	ch.mu.Lock()
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
	ch, err := b.channel(channel)
	if err != nil {
		return History{}, err
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	h := History{Position: Position{Seq: ch.seq, Epoch: b.epoch}}
	if since == nil {
		return h, nil
	}
	from := since.Seq + 1 // first publication the caller lacks
	oldest := ch.seq - uint64(len(ch.ring)) + 1
	h.Recovered = since.Epoch == b.epoch && since.Seq <= ch.seq && from >= oldest
	if since.Epoch != b.epoch || since.Seq > ch.seq {
		from = oldest // another epoch: everything retained is news
	}
	if from < oldest {
		from = oldest
	}
	for seq := from; seq <= ch.seq; seq++ {
		h.Missed = append(h.Missed, ch.ring[(seq-1)%uint64(b.history)])
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
