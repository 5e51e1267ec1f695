package wsgate

import (
	"context"
	"sync"
)

// lane runs one connection's broker requests (sub, unsub and pub) one at
// a time, in the order they arrived, on a goroutine that exists only while
// requests wait. A Broker may wait on a network (a cluster's publish, a
// history read), so none of its calls is made on the event loop that read
// the request: a Broker that takes seconds, or is down, holds up only the
// broker requests of the connections that asked it something, never a
// loop, a lock, or another connection's echoes and calls. Order matters
// here, unlike for calls: a client's publications on a channel go out in
// the order it sent them, and a sub followed by an unsub of the same
// channel leaves it unsubscribed.
//
// At most maxLaneRequests requests, holding at most maxLaneBytes of pub
// data, are queued or running on one lane; more are answered rate_limited
// at once. The lane's goroutine counts as a running call (Server.calls),
// so Shutdown waits for it, and each request gets a context bounded like
// a call's (Config.CallTimeout, the connection's end, the server's
// shutdown).
type lane struct {
	mu      sync.Mutex
	waiting []laneEntry // guarded by mu
	running bool        // a goroutine is running waiting's requests; guarded by mu
	n       int         // requests queued or running; guarded by mu
	bytes   int         // their pub data, in bytes; guarded by mu
}

// Bounds of one connection's lane. A client may subscribe to many
// channels at once when it starts: a thousand sub requests in a row are
// queued, not refused.
const (
	maxLaneRequests = 1024
	maxLaneBytes    = 1 << 20
)

// laneRequest is one broker request.
type laneRequest func(ctx context.Context)

// laneEntry is a queued request and the pub data it holds, in bytes.
type laneEntry struct {
	do   laneRequest
	size int
}

// onLane queues do, a request carrying size bytes of pub data, behind
// the connection's earlier broker requests. The request with id gets an
// error reply when it cannot be queued. The caller reserved size bytes of
// the input budget (Server.engine.ReserveInput); onLane gives them back
// when the request has run or cannot be queued.
func (ss *session) onLane(id []byte, size int, do laneRequest) {
	l := &ss.lane
	l.mu.Lock()
	if l.n >= maxLaneRequests || l.n > 0 && l.bytes+size > maxLaneBytes {
		l.mu.Unlock()
		ss.s.engine.ReleaseInput(int64(size))
		ss.s.limited.bite(limitLane)
		ss.replyError(id, CodeRateLimited, "too many sub, unsub and pub requests waiting on this connection")
		return
	}
	start := !l.running
	if start && !ss.s.startCall() {
		l.mu.Unlock()
		ss.s.engine.ReleaseInput(int64(size))
		ss.replyError(id, CodeUnavailable, ss.s.refusal())
		return
	}
	l.waiting = append(l.waiting, laneEntry{do, size})
	l.n++
	l.bytes += size
	l.running = true
	l.mu.Unlock()
	if start {
		go ss.runLane()
	}
}

// runLane runs the lane's requests until none waits.
func (ss *session) runLane() {
	defer ss.s.calls.Done()
	l := &ss.lane
	for {
		l.mu.Lock()
		if len(l.waiting) == 0 {
			l.running = false
			l.waiting = nil
			l.mu.Unlock()
			return
		}
		e := l.waiting[0]
		l.waiting[0] = laneEntry{}
		l.waiting = l.waiting[1:]
		l.mu.Unlock()
		if !ss.closed.Load() { // else nobody to answer: the connection has ended
			ctx, cancel := ss.requestContext()
			e.do(ctx)
			cancel()
		}
		l.mu.Lock()
		l.n--
		l.bytes -= e.size
		l.mu.Unlock()
		ss.s.engine.ReleaseInput(int64(e.size))
	}
}

// requestContext bounds a call or broker request made for the
// connection: it ends after Config.CallTimeout, when the connection ends,
// or when the server stops. It carries the connection's Identity, when
// it has one (IdentityFromContext).
func (ss *session) requestContext() (context.Context, context.CancelFunc) {
	var ctx context.Context = ss.c.Context()
	if a := ss.auth; a != nil {
		if id := a.id.Load(); id != nil {
			ctx = context.WithValue(ctx, identityKey{}, id)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, ss.s.cfg.CallTimeout)
	stop := context.AfterFunc(ss.s.baseCtx, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}
