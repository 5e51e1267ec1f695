// Package deadline hands out deadlines shared by the requests that start
// close together.
//
// A server that bounds each of many requests a second with
// context.WithTimeout makes a context, a channel and a runtime timer for
// every request, and arms and stops that timer under the runtime's timer
// lock. Requests that start within one grain of each other can share one
// context instead: each still gets at least its whole timeout, and at
// most one grain more.
package deadline

import (
	"context"
	"sync"
	"time"
)

// maxGrain bounds the grain: how late a shared deadline may be.
const maxGrain = 100 * time.Millisecond

// Shared gives out Leases on contexts that end no sooner than timeout
// after the request that took one started, no later than one grain after
// that, or when parent ends. The grain is timeout/100, at most 100 ms.
//
// Safe for concurrent use. A Lease is handed out to the requests that
// start within its grain; the last of them to release it, after the
// grain has passed, cancels its context, so that no timer outlives the
// requests it bounds by more than the lease being handed out now.
type Shared struct {
	parent  context.Context
	timeout time.Duration
	grain   time.Duration

	mu  sync.Mutex
	cur *Lease // the lease handed out now; nil before the first; guarded by mu
}

// Lease is one shared context and the count of the requests using it.
type Lease struct {
	ctx    context.Context
	cancel context.CancelFunc
	until  time.Time // handed out to requests starting before this
	users  int       // the requests holding it; guarded by s.mu
	s      *Shared
}

// New returns a Shared whose contexts end timeout after they are taken,
// or when parent ends.
func New(parent context.Context, timeout time.Duration) *Shared {
	return &Shared{parent: parent, timeout: timeout, grain: min(timeout/100, maxGrain)}
}

// Acquire returns a Lease whose context ends between the timeout and
// the timeout plus one grain from now, or when the parent ends. The
// caller must Release it when its request ends.
func (s *Shared) Acquire() *Lease {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.cur
	if l == nil || !now.Before(l.until) {
		if l != nil && l.users == 0 {
			l.cancel()
		}
		ctx, cancel := context.WithDeadline(s.parent, now.Add(s.timeout+s.grain))
		l = &Lease{ctx: ctx, cancel: cancel, until: now.Add(s.grain), s: s}
		s.cur = l
	}
	l.users++
	return l
}

// Context is the lease's context.
func (l *Lease) Context() context.Context { return l.ctx }

// Release ends the caller's use of l, which it must not use again.
func (l *Lease) Release() {
	s := l.s
	s.mu.Lock()
	l.users--
	last := l.users == 0 && s.cur != l
	s.mu.Unlock()
	if last {
		l.cancel()
	}
}
