package natsbroker

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wsgate/wsgate"
)

// subscriptions holds this node's subscriptions, one per channel with
// local subscribers, and the goroutines that deliver to them: a NATS
// message lands in the queue of the shard its channel hashes to, so one
// channel's messages are handled in order by one goroutine, and channels
// spread over the CPUs.
type subscriptions struct {
	b      *Broker
	seed   maphash.Seed
	shards []*shard

	mu   sync.RWMutex
	byNS map[*nats.Subscription]*subscription // guarded by mu

	doneMu sync.Mutex
	done   []*nats.Subscription // cancelled, to unsubscribe from NATS; guarded by doneMu
	wake   chan struct{}        // capacity 1: done has entries
}

func (ss *subscriptions) init(b *Broker, shards int) {
	ss.b = b
	ss.seed = maphash.MakeSeed()
	ss.byNS = make(map[*nats.Subscription]*subscription)
	ss.wake = make(chan struct{}, 1)
	ss.shards = make([]*shard, max(shards, 1))
	for i := range ss.shards {
		ss.shards[i] = newShard(ss)
		b.wg.Add(1)
		go ss.shards[i].loop()
	}
	b.wg.Add(1)
	go ss.unsubscribeLoop()
}

// unsubscribeLoop ends the NATS subscriptions of cancelled
// subscriptions, so that cancel never waits for the connection's lock.
func (ss *subscriptions) unsubscribeLoop() {
	defer ss.b.wg.Done()
	for {
		select {
		case <-ss.b.ctx.Done():
			return
		case <-ss.wake:
		}
		ss.doneMu.Lock()
		done := ss.done
		ss.done = nil
		ss.doneMu.Unlock()
		for _, ns := range done {
			ns.Unsubscribe()
		}
	}
}

// markLossy notes that NATS dropped live messages of ns (see shard).
func (ss *subscriptions) markLossy(ns *nats.Subscription) {
	ss.mu.RLock()
	s := ss.byNS[ns]
	ss.mu.RUnlock()
	if s != nil {
		s.shard.markLossy(s)
	}
}

// all returns the current subscriptions.
func (ss *subscriptions) all() []*subscription {
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	out := make([]*subscription, 0, len(ss.byNS))
	for _, s := range ss.byNS {
		out = append(out, s)
	}
	return out
}

// subscription is this node's subscription to one channel. It delivers
// the channel's publications in Seq order, each once: a live message
// that is not the next one is not delivered; the subscription reads the
// stream from where it is (a gap fill, on a goroutine of its own, one at
// a time) until it has caught up, and live delivery resumes.
type subscription struct {
	b        *Broker
	channel  string
	subj     string // the stream subject
	liveOnly bool
	deliver  func(wsgate.Publication)
	ns       *nats.Subscription
	shard    *shard

	// Used by the shard's goroutine only (and marks under the shard's
	// mu): the loss check.
	droppedSeen int    // the count of dropped messages last seen
	gotThrough  bool   // a live message came through since the last check
	marks       uint64 // times NATS reported a drop

	ctx       context.Context // ends with cancel or the Broker
	stop      context.CancelFunc
	cancelled atomic.Bool

	// mu guards the fields below and is held while deliver runs, so
	// deliveries never overlap.
	mu        sync.Mutex
	epoch     string // of the last publication delivered, or the channel's when subscribed
	next      uint64 // the Seq to deliver next in epoch
	streamSeq uint64 // the stream sequence of the last publication delivered; 0: none
	filling   bool   // a gap fill is running: live messages are left to it
	behind    bool   // a live message came while filling: read again before resuming
}

// Subscribe implements wsgate.Broker: a NATS subscription to the
// channel's live subject (where the stream republishes what it stored),
// flushed so NATS has it, then the channel's last position, from which
// the subscription delivers. Every publication stored from its return on
// is delivered. It fails with ErrUnavailable while NATS is unreachable.
func (b *Broker) Subscribe(channel string, deliver func(wsgate.Publication)) (func(), error) {
	if err := b.usable(); err != nil {
		return nil, err
	}
	tok := encodeToken(channel)
	s := &subscription{b: b, channel: channel, subj: b.storePrefix + tok, liveOnly: b.liveOnly(channel), deliver: deliver, next: 1}
	// Until its position is read, live messages only mark it behind.
	s.filling = !s.liveOnly
	s.ctx, s.stop = context.WithCancel(b.ctx)
	ss := &b.subs
	s.shard = ss.shards[maphash.String(ss.seed, channel)%uint64(len(ss.shards))]
	ss.mu.Lock() // held so no message of the new subscription is looked up before it is known
	ns, err := b.nc.ChanSubscribe(b.livePrefix+tok, s.shard.q)
	if err == nil {
		s.ns = ns
		ss.byNS[ns] = s
	}
	ss.mu.Unlock()
	if err != nil {
		s.stop()
		return nil, unavailable("subscribe", err)
	}
	fail := func(err error) (func(), error) {
		s.cancel()
		return nil, err
	}
	if err := b.nc.FlushTimeout(b.opts.RequestTimeout); err != nil {
		return fail(unavailable("subscribe", err))
	}
	if !s.liveOnly {
		ctx, cancel := b.bound(s.ctx)
		last, found, err := b.readLast(ctx, s.subj)
		cancel()
		if err != nil {
			return fail(err)
		}
		s.mu.Lock()
		if found {
			s.epoch, s.next, s.streamSeq = last.epoch, last.seq+1, last.streamSeq
		}
		if s.behind {
			// Publications were stored after the position was read and
			// came live meanwhile: take them from the stream.
			s.behind = false
			s.startFillLocked(s.streamSeq + 1)
		} else {
			s.filling = false
		}
		s.mu.Unlock()
	}
	return s.cancel, nil
}

// cancel ends the subscription. It returns at once: NATS is told by the
// Broker's unsubscribing goroutine. A delivery under way may still
// finish after it returns; none starts later.
func (s *subscription) cancel() {
	if s.cancelled.Swap(true) {
		return
	}
	s.stop()
	ss := &s.b.subs
	ss.mu.Lock()
	if s.ns != nil {
		delete(ss.byNS, s.ns)
	}
	ss.mu.Unlock()
	if s.ns == nil {
		return
	}
	ss.doneMu.Lock()
	ss.done = append(ss.done, s.ns)
	ss.doneMu.Unlock()
	select {
	case ss.wake <- struct{}{}:
	default:
	}
}

// onLive handles a message from the live subject. It runs on the
// subscription's shard goroutine.
func (s *subscription) onLive(m *nats.Msg) {
	if s.liveOnly {
		s.mu.Lock()
		if !s.cancelled.Load() {
			s.deliver(wsgate.Publication{Channel: s.channel, Data: m.Data})
		}
		s.mu.Unlock()
		return
	}
	p, ok := parseStored(m)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.cancelled.Load():
	case s.filling:
		s.behind = true
	case p.epoch == s.epoch && p.seq < s.next:
		// Delivered already (read from the stream during a gap fill).
	case p.epoch == s.epoch && p.seq == s.next:
		s.deliverLocked(p)
	case p.epoch != s.epoch && p.seq == 1:
		// A new epoch's first publication: nothing before it to miss.
		s.deliverLocked(p)
	case p.epoch == s.epoch:
		// A gap: some were lost on the way (NATS drops messages for a
		// node that falls behind, or while it reconnects).
		s.startFillLocked(s.streamSeq + 1)
	default:
		// A new epoch: the channel's history was lost and started again
		// (or the stream was made anew), so read it from its start.
		s.startFillLocked(1)
	}
}

// deliverLocked delivers p and moves the position past it. s.mu must be
// held.
func (s *subscription) deliverLocked(p stored) {
	s.epoch, s.next, s.streamSeq = p.epoch, p.seq+1, p.streamSeq
	if !s.cancelled.Load() {
		s.deliver(wsgate.Publication{Channel: s.channel, Seq: p.seq, Epoch: p.epoch, Data: p.data})
	}
}

// startFillLocked starts a gap fill reading the stream from stream
// sequence from. s.mu must be held.
func (s *subscription) startFillLocked(from uint64) {
	s.filling = true
	s.b.stats.gaps.Add(1)
	s.b.wg.Add(1)
	go func() {
		defer s.b.wg.Done()
		s.fill(from, true)
	}()
}

// catchUp starts reading what the stream holds past the subscription's
// position, unless a gap fill runs already (then it reads once more):
// NATS dropped live messages of the channel.
func (s *subscription) catchUp() {
	if s.liveOnly {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.cancelled.Load():
	case s.filling:
		s.behind = true
	default:
		s.startFillLocked(s.streamSeq + 1)
	}
}

// catchUpNow reads what the stream holds past the subscription's
// position, on the calling goroutine (the Broker's resync after a
// reconnection), unless a gap fill runs already. It gives up when a read
// fails (the next reconnection tries again), unless a live message came
// meanwhile: then a gap fill goes on in the background.
func (s *subscription) catchUpNow() {
	if s.liveOnly {
		return
	}
	s.mu.Lock()
	if s.filling || s.cancelled.Load() {
		s.mu.Unlock()
		return
	}
	s.filling = true
	from := s.streamSeq + 1
	s.mu.Unlock()
	s.fill(from, false)
}

// fillBatch is how many publications one read of a gap fill asks for.
const fillBatch = 256

// fill reads the channel's publications from stream sequence from on and
// delivers those after the subscription's position, until it has read
// everything the stream held when a read began and no live message came
// meanwhile. Then live delivery resumes. When persistent, a failed read
// is tried again (at most once a second) until the subscription ends:
// every stored publication is delivered.
func (s *subscription) fill(from uint64, persistent bool) {
	b := s.b
	for {
		select {
		case b.fetchSlot <- struct{}{}:
		case <-s.ctx.Done():
			return
		}
		ctx, cancel := b.bound(s.ctx)
		ps, more, err := b.readFrom(ctx, s.subj, from, fillBatch)
		cancel()
		<-b.fetchSlot
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			if !persistent {
				s.mu.Lock()
				if s.behind {
					s.behind = false
					s.startFillLocked(from)
				} else {
					s.filling = false
				}
				s.mu.Unlock()
				return
			}
			select {
			case <-time.After(time.Second):
			case <-s.ctx.Done():
				return
			}
			continue
		}
		s.mu.Lock()
		if s.cancelled.Load() {
			s.mu.Unlock()
			return
		}
		for _, p := range ps {
			// Those of the subscription's epoch it has had are skipped;
			// a later one is delivered even past a gap, which is then
			// for good: the stream no longer holds what is missing. A
			// new epoch starts again from what the stream holds of it.
			if p.epoch == s.epoch && p.seq < s.next {
				continue
			}
			s.deliverLocked(p)
		}
		if len(ps) > 0 {
			from = ps[len(ps)-1].streamSeq + 1
		}
		if !more && !s.behind {
			s.filling = false
			s.mu.Unlock()
			return
		}
		s.behind = false
		s.mu.Unlock()
	}
}
