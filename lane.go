package wsgate

import (
	"context"
	"sync"

	"github.com/wsgate/wsgate/internal/deadline"
)

// lane runs one connection's broker requests (sub, unsub and pub) in the
// order they arrived, each on a goroutine that exists only while it runs.
// A Broker may wait on a network (a cluster's publish, a history read),
// so none of its calls is made on the event loop that read the request:
// a Broker that takes seconds, or is down, holds up only the broker
// requests of the connections that asked it something, never a loop, a
// lock, or another connection's echoes and calls.
//
// Order matters here, unlike for calls. Pubs on distinct channels run
// together, up to maxLanePubs at once, so a client that sends many
// publications without waiting for each answer is not held to one
// broker round trip each; a pub on a channel that a running pub has
// starts after it, so a client's publications on a channel keep the
// order sent. A sub or unsub runs alone: after every request before it
// and before any after it, so a sub followed by an unsub of the same
// channel leaves it unsubscribed. Requests start in the order they
// arrived: one that must wait holds up those behind it.
//
// At most maxLaneRequests requests, holding at most maxLaneBytes of pub
// data, are queued or running on one lane; more are answered rate_limited
// at once. Each running request counts as a running call (Server.calls),
// so Shutdown waits for it, and gets a context bounded like a call's
// (Config.CallTimeout, the connection's end, the server's shutdown).
type lane struct {
	mu      sync.Mutex
	waiting []laneEntry         // not started yet, oldest first; guarded by mu
	pubs    map[string]struct{} // channels of the pubs running; guarded by mu
	alone   bool                // a sub or unsub runs; guarded by mu
	bytes   int                 // their pub data, in bytes; guarded by mu
}

// Bounds of one connection's lane. A client may subscribe to many
// channels at once when it starts: a thousand sub requests in a row are
// queued, not refused.
const (
	maxLaneRequests = 1024
	maxLaneBytes    = 1 << 20
	maxLanePubs     = 64
)

// laneRequest is one broker request.
type laneRequest func(ctx context.Context)

// laneEntry is a queued request: the id it answers, the pub data it
// holds in bytes, and a pub's channel ("" for a sub or unsub).
type laneEntry struct {
	do      laneRequest
	id      []byte
	size    int
	channel string
}

// onLane queues do, a request with id carrying size bytes of pub data
// (a pub on channel, or a sub or unsub when channel is ""), behind the
// connection's earlier broker requests. The request gets an error reply
// when it cannot be queued. The caller reserved size bytes of the input
// budget (Server.engine.ReserveInput); the lane gives them back when the
// request has run or cannot be queued.
func (ss *session) onLane(id []byte, size int, channel string, do laneRequest) {
	l := ss.lane
	if l == nil { // a connection that never asks the broker holds no lane
		l = new(lane)
		ss.lane = l
	}
	l.mu.Lock()
	if n := l.requestsLocked(); n >= maxLaneRequests || n > 0 && l.bytes+size > maxLaneBytes {
		l.mu.Unlock()
		ss.s.engine.ReleaseInput(int64(size))
		ss.s.limited.bite(limitLane)
		ss.replyError(id, CodeRateLimited, "too many sub, unsub and pub requests waiting on this connection")
		return
	}
	l.waiting = append(l.waiting, laneEntry{do: do, id: id, size: size, channel: channel})
	l.bytes += size
	var start [4]laneEntry
	next := l.startableLocked(start[:0])
	l.mu.Unlock()
	ss.startLane(next)
}

// requestsLocked counts the requests queued or running. l.mu must be
// held.
func (l *lane) requestsLocked() int {
	n := len(l.waiting) + len(l.pubs)
	if l.alone {
		n++
	}
	return n
}

// crowded reports whether requests besides a running pub are running or
// waiting: its reply will have others close behind it.
func (l *lane) crowded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pubs) > 1 || len(l.waiting) > 0
}

// startableLocked moves the requests at the head of the queue that may
// start now to dst and returns it. l.mu must be held.
func (l *lane) startableLocked(dst []laneEntry) []laneEntry {
	for len(l.waiting) > 0 && !l.alone {
		e := l.waiting[0]
		if e.channel == "" {
			if len(l.pubs) > 0 {
				break
			}
			l.alone = true
		} else {
			if _, running := l.pubs[e.channel]; running || len(l.pubs) >= maxLanePubs {
				break
			}
			if l.pubs == nil {
				l.pubs = make(map[string]struct{})
			}
			l.pubs[e.channel] = struct{}{}
		}
		l.waiting[0] = laneEntry{}
		l.waiting = l.waiting[1:]
		dst = append(dst, e)
	}
	if len(l.waiting) == 0 {
		l.waiting = nil // let the grown array go
	}
	return dst
}

// startLane runs each of es, taken from the queue, on a goroutine of its
// own. One the stopping server refuses is answered unavailable, and what
// it held up is started (or refused) in turn.
func (ss *session) startLane(es []laneEntry) {
	for len(es) > 0 {
		e := es[0]
		es = es[1:]
		if ss.s.startCall() {
			go ss.runLane(e)
			continue
		}
		ss.replyError(e.id, CodeUnavailable, ss.s.refusal())
		es = ss.endLane(e, es)
	}
}

// runLane runs e, then, while the server runs, the first request that e
// held up, and so on, starting the others on goroutines of their own: a
// goroutine ends when its request freed nothing.
func (ss *session) runLane(e laneEntry) {
	defer ss.s.calls.Done()
	var start [4]laneEntry
	for {
		if !ss.closed.Load() { // else nobody to answer: the connection has ended
			ctx, lease := ss.requestContext()
			e.do(ctx)
			lease.Release()
		}
		next := ss.endLane(e, start[:0])
		if len(next) == 0 {
			return
		}
		if ss.s.stopping.Load() {
			ss.startLane(next) // refuses them
			return
		}
		e = next[0]
		ss.startLane(next[1:])
	}
}

// endLane takes e, which ran or was refused, off the lane, gives back
// its input, and returns (appended to dst) the requests that may start
// now, taken from the queue.
func (ss *session) endLane(e laneEntry, dst []laneEntry) []laneEntry {
	l := ss.lane
	l.mu.Lock()
	if e.channel == "" {
		l.alone = false
	} else {
		delete(l.pubs, e.channel)
	}
	l.bytes -= e.size
	next := l.startableLocked(dst)
	l.mu.Unlock()
	ss.s.engine.ReleaseInput(int64(e.size))
	return next
}

// requestContext bounds a call or broker request made for the
// connection: it ends after Config.CallTimeout (up to a hundredth of it
// later, as the requests that start together share one deadline), when
// the connection ends, or when the server stops. It carries the
// connection's Identity, when it has one (IdentityFromContext). The
// caller releases the lease when the request ends.
func (ss *session) requestContext() (context.Context, *deadline.Lease) {
	lease := ss.ensureScope().deadlines.Acquire()
	ctx := lease.Context()
	if a := ss.auth; a != nil {
		if id := a.id.Load(); id != nil {
			ctx = context.WithValue(ctx, identityKey{}, id)
		}
	}
	return ctx, lease
}

// requestScope is what every request of one connection derives from:
// a context that ends when the connection ends or the server stops, and
// the deadlines its requests share.
type requestScope struct {
	ctx       context.Context
	cancel    context.CancelFunc
	stop      func() bool // ends the watch on the server's stop
	deadlines *deadline.Shared
}

// ensureScope returns the connection's requestScope, made by its first
// request, so that a connection that never asks anything holds none and
// one that asks many does not watch the server's stop once per request.
// OnClose ends it (endRequests).
func (ss *session) ensureScope() *requestScope {
	if sc := ss.scope.Load(); sc != nil {
		return sc
	}
	ctx, cancel := context.WithCancel(ss.c.Context())
	sc := &requestScope{
		ctx:       ctx,
		cancel:    cancel,
		stop:      context.AfterFunc(ss.s.baseCtx, cancel),
		deadlines: deadline.New(ctx, ss.s.cfg.CallTimeout),
	}
	if !ss.scope.CompareAndSwap(nil, sc) {
		sc.end()
		return ss.scope.Load()
	}
	if ss.closed.Load() { // OnClose ran and may have missed sc
		sc.end()
	}
	return sc
}

// end cancels the scope's context and stops watching the server.
func (sc *requestScope) end() {
	sc.stop()
	sc.cancel()
}

// endRequests ends the connection's requestScope, if it has one: OnClose
// calls it after setting closed.
func (ss *session) endRequests() {
	if sc := ss.scope.Load(); sc != nil {
		sc.end()
	}
}
