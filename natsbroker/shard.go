package natsbroker

import (
	"sync"

	"github.com/nats-io/nats.go"
)

// shardQueue is the room, in messages, of each delivering goroutine's
// queue: what this node holds of live messages not yet delivered is at
// most shardQueue per CPU. NATS drops what does not fit (a slow
// consumer) and the gap is filled from the stream.
const shardQueue = 4096

// shard is one delivering goroutine and its queue, which NATS fills with
// the live messages of the channels that hash to it, and the
// subscriptions of those channels whose messages NATS dropped.
//
// A drop is made good even when nothing of the channel arrives after it
// to show the gap. NATS reports a subscription's first drop (then none
// until one of its messages gets through); the subscription joins lossy,
// and whenever the goroutine has emptied its queue it compares each
// lossy subscription's count of dropped messages with the count it last
// saw: more, and the subscription catches up from the stream. The check
// is sound because NATS counts a drop under the subscription's lock it
// holds while finding the queue full: a drop that happened before the
// queue was seen empty is in the count read after. A subscription leaves
// lossy when no drop came and one of its messages got through since the
// last check, after which NATS reports its next drop again.
type shard struct {
	ss   *subscriptions
	q    chan *nats.Msg
	wake chan struct{} // capacity 1: a subscription joined lossy

	mu    sync.Mutex
	lossy map[*subscription]uint64 // the subscription's marks when it last joined; guarded by mu
}

func newShard(ss *subscriptions) *shard {
	return &shard{ss: ss, q: make(chan *nats.Msg, shardQueue), wake: make(chan struct{}, 1), lossy: make(map[*subscription]uint64)}
}

// loop hands each message of the queue to its subscription, and checks
// the lossy subscriptions each time the queue is empty.
func (sh *shard) loop() {
	defer sh.ss.b.wg.Done()
	done := sh.ss.b.ctx.Done()
	for {
		select {
		case <-done:
			return
		case m := <-sh.q:
			sh.dispatch(m)
			continue
		default:
		}
		sh.checkLossy()
		select {
		case <-done:
			return
		case m := <-sh.q:
			sh.dispatch(m)
		case <-sh.wake:
		}
	}
}

func (sh *shard) dispatch(m *nats.Msg) {
	ss := sh.ss
	ss.mu.RLock()
	s := ss.byNS[m.Sub]
	ss.mu.RUnlock()
	if s != nil {
		s.gotThrough = true
		s.onLive(m)
	}
}

// markLossy adds s to the lossy subscriptions: NATS reported a drop.
// It runs on the connection's callback goroutine.
func (sh *shard) markLossy(s *subscription) {
	sh.mu.Lock()
	s.marks++
	sh.lossy[s] = s.marks
	sh.mu.Unlock()
	select {
	case sh.wake <- struct{}{}:
	default:
	}
}

// checkLossy catches up the lossy subscriptions that lost messages since
// the last check. It runs on the shard's goroutine, with the queue empty.
func (sh *shard) checkLossy() {
	sh.mu.Lock()
	if len(sh.lossy) == 0 {
		sh.mu.Unlock()
		return
	}
	subs := make([]*subscription, 0, len(sh.lossy))
	marks := make([]uint64, 0, len(sh.lossy))
	for s, m := range sh.lossy {
		subs = append(subs, s)
		marks = append(marks, m)
	}
	sh.mu.Unlock()
	for i, s := range subs {
		dropped, err := s.ns.Dropped()
		leave := false
		switch {
		case err != nil || s.cancelled.Load():
			leave = true
		case dropped > s.droppedSeen:
			s.b.stats.dropped.Add(uint64(dropped - s.droppedSeen))
			s.droppedSeen, s.gotThrough = dropped, false
			s.catchUp()
		case s.gotThrough:
			leave = true
		}
		if leave {
			sh.mu.Lock()
			if sh.lossy[s] == marks[i] { // not marked again meanwhile
				delete(sh.lossy, s)
			}
			sh.mu.Unlock()
		}
	}
}
