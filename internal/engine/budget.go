package engine

import (
	"sync"
	"sync/atomic"
)

// This file is the Engine's input budget (Options.MaxBufferedInput): one
// count of the memory its connections' decoders hold for partial frames
// and unfinished messages (their buffers' capacity, ws.Reader.Footprint,
// not just the bytes in them), plus what the engine's users reserve
// (ReserveInput). A connection charges the change in what its decoder
// holds after each read; a read that ends on a message boundary leaves
// nothing charged.
//
// When the budget is spent (held >= limit), a connection that holds a
// partial message is not read: its socket keeps the bytes, and TCP flow
// control pushes back on the client. A connection between messages is
// still read, spentReadSize bytes at a time, so that its pongs, its Close
// and small messages arrive; if such a read starts a message, that
// connection waits too. Whoever brings the count back under the limit
// while someone waits wakes the waiters: the read goroutines (freed) and
// the epoll loops (loopGroup.resume). The epoll loops also look again at
// each sweep.
//
// Unfinished messages alone can spend the budget, and each needs more
// bytes to finish and free what it holds: if every one of them waited,
// none would finish. So one connection at a time, the holder of the
// budget's lease, reads past the limit until its message is complete (or
// it ends), then passes the lease on. After half IdleTimeout another
// connection may take the lease over, so that a client that took it and
// stalls (even one that keeps sending pings) cannot keep the others
// waiting until their idle timeout; the one taken over waits like the
// others, and IdleTimeout closes it unless the lease comes back to it in
// time. Only lease holders are read past the limit and each holds at most
// one message, so the budget is exceeded by about three messages
// (MaxMessageSize) at most, plus one read per reader.

// DefaultMaxBufferedInput is Options.MaxBufferedInput's default: 256 MiB,
// room for 256 messages of the default MaxMessageSize in flight at once,
// while a crowd of clients that stall inside large messages (or calls
// with large arguments waiting for a slow backend) cannot make the
// process hold more than that for them.
const DefaultMaxBufferedInput = 256 << 20

// spentReadSize is how many bytes a connection between messages may read
// at a time while the budget is spent: more than a Close frame or a few
// pongs, little enough that the connections that start a message this way
// add little beyond the limit.
const spentReadSize = 512

// inputBudget counts buffered input against Options.MaxBufferedInput.
// Safe for concurrent use.
type inputBudget struct {
	limit   int64                 // negative: no limit (still counted)
	held    atomic.Int64          // bytes held now
	paused  atomic.Uint64         // times a connection's reading paused
	waiting atomic.Bool           // someone waits for the count to fall under limit
	lease   atomic.Pointer[lease] // the connection reading past the limit; nil: none

	mu    sync.Mutex
	freed chan struct{} // closed, and replaced, when waiters are woken; guarded by mu
	wake  func()        // wakes the epoll loops that hold paused connections; nil without loops
}

// spent reports whether reading a partial message must wait.
func (b *inputBudget) spent() bool {
	return b.limit >= 0 && b.held.Load() >= b.limit
}

// reserve adds n to the count unless that would take it past the limit.
func (b *inputBudget) reserve(n int64) bool {
	if b.limit < 0 || n <= 0 {
		b.held.Add(n)
		return true
	}
	for {
		h := b.held.Load()
		if h+n > b.limit {
			return false
		}
		if b.held.CompareAndSwap(h, h+n) {
			return true
		}
	}
}

// add changes the count by n, which may be negative (bytes freed), and
// wakes the waiters when that brings it under the limit.
func (b *inputBudget) add(n int64) {
	h := b.held.Add(n)
	if n < 0 && h < b.limit && b.waiting.Load() {
		b.notify()
	}
}

// notify wakes whoever waits for the budget.
func (b *inputBudget) notify() {
	if !b.waiting.CompareAndSwap(true, false) {
		return
	}
	b.mu.Lock()
	if b.freed != nil {
		close(b.freed)
		b.freed = nil
	}
	b.mu.Unlock()
	if b.wake != nil {
		b.wake()
	}
}

// await returns a channel closed when the count may have fallen under the
// limit, and marks that someone waits. The caller checks spent again
// after await, so that bytes freed in between are not missed.
func (b *inputBudget) await() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.freed == nil {
		b.freed = make(chan struct{})
	}
	b.waiting.Store(true)
	return b.freed
}

// ReserveInput charges n bytes, held by the caller on behalf of a client
// (a call's arguments, a queued publication), to the engine's input
// budget. It reports false, charging nothing, when that would take the
// budget past Options.MaxBufferedInput; then the caller should refuse the
// request rather than copy its bytes. Every successful reservation must
// be given back with ReleaseInput. A zero n always succeeds.
func (e *Engine) ReserveInput(n int64) bool { return e.input.reserve(n) }

// ReleaseInput gives back n bytes reserved with ReserveInput; connections
// paused for the budget may read again.
func (e *Engine) ReleaseInput(n int64) {
	if n > 0 {
		e.input.add(-n)
	}
}

// chargeInput records that c's decoder now holds n bytes, charging the
// difference to the budget; n == 0 (no partial message) gives back the
// lease if c held it. Only the reader calls it.
func (c *Conn) chargeInput(n int) {
	if d := int64(n) - c.inputHeld; d != 0 {
		c.inputHeld = int64(n)
		c.engine().input.add(d)
	}
	if n == 0 {
		c.dropLease()
	}
}

// dropLease gives up the budget's lease if c holds it. Only the reader
// calls it.
func (c *Conn) dropLease() {
	if c.rflags&rLease == 0 {
		return
	}
	c.rflags &^= rLease
	b := &c.engine().input
	if l := b.lease.Load(); l != nil && l.c == c && b.lease.CompareAndSwap(l, nil) {
		b.notify() // a waiter may take the lease
	}
}

// lease is the budget's lease: who holds it, and until when (engine
// clock) before another connection may take it over.
type lease struct {
	c     *Conn
	until int64
}

// takeLease reports whether c, which holds a partial message, may read
// although the budget is spent: it holds the lease, or took it, the lease
// being free or its time over. Only the reader calls it.
func (c *Conn) takeLease() bool {
	e := c.engine()
	b := &e.input
	l := b.lease.Load()
	if l != nil && l.c == c {
		return true
	}
	now := e.now()
	if l != nil && now < l.until {
		return false
	}
	if b.lease.CompareAndSwap(l, &lease{c: c, until: now + int64(e.opts.IdleTimeout)/2}) {
		c.rflags |= rLease
		return true
	}
	return false
}

// leaseFree reports whether the lease may be taken at now (engine clock).
func (b *inputBudget) leaseFree(now int64) bool {
	l := b.lease.Load()
	return l == nil || now >= l.until
}

// leaseEnds is when the lease held now ends (engine clock), or 0 when it
// is free.
func (b *inputBudget) leaseEnds() int64 {
	if l := b.lease.Load(); l != nil {
		return l.until
	}
	return 0
}
