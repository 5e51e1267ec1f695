//go:build linux

package engine

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/wsgate/wsgate/internal/uring"
)

// This file is the io_uring loopIO (Kind Uring): the loops, their
// connections, queueing, batching and sweep are the epoll engine's; what
// differs is how a loop learns what its sockets did.
//
// Each loop owns one ring, set up with COOP_TASKRUN: the work that
// turns a socket's readiness into a completion runs on the thread that
// submitted the request when it next enters the kernel (a sleeping
// thread is woken for it, a running one is not interrupted), and the
// loop runs its own with the io_uring_enter that ends a turn. A
// connection has two requests armed for its life: a multishot recv that
// takes a buffer from the loop's provided buffer ring each time bytes
// arrive (uring_read_linux.go), and a multishot poll for POLLOUT that
// completes when a socket that refused bytes drains, as epoll's
// edge-triggered EPOLLOUT does. Requests the turn prepares (arming,
// re-arming, cancelling) go to the kernel with the io_uring_enter that
// ends the turn. The loop parks in Go's runtime poller on the ring's
// eventfd (uring.Ring.Wait), as the epoll loop parks on its epoll
// descriptor, so it holds no P while it waits and goroutines it started
// (calls answered on goroutines) run at once; another goroutine wakes it
// with uring.Ring.Wake.
//
// Not SINGLE_ISSUER with DEFER_TASKRUN, although they batch completions
// better: they need the loop locked to its thread, which then cannot
// park in the poller (the kernel made the eventfd readable 15.5-16 ms
// after a peer's bytes came while the issuer waited outside
// io_uring_enter, kernel 6.18), and sleeping in io_uring_enter instead
// keeps the thread's P until Go's sysmon takes it back: calls answered
// on goroutines waited 3-4 times as long as under epoll, and the
// runtime started ten more threads in a storm of handshakes.
//
// Writes the loop makes are requests in the ring (uring_write_linux.go);
// other goroutines write the socket directly with writev when nothing
// waits for it, as under epoll (conn_epoll_linux.go).

// Sizes of a loop's ring and of its provided buffers.
const (
	ringEntries     = maxFlushesPerRound // submission queue entries: a turn's fan-out writes leave in one io_uring_enter
	ringCompletions = 8 << 10            // completion queue entries; more wait in the kernel (overflow)
	recvBuffers     = 256                // provided buffers per loop: what may be received before the loop reaps
	recvBufferSize  = 16 << 10
	recvGroup       = 0   // the loop's buffer group id
	cqeBatch        = 512 // completions copied out of the ring at a time
)

// reqKind is what a request is for, in the top byte of its user data.
type reqKind uint8

const (
	reqRecv    reqKind = 1 + iota // a connection's multishot recv
	reqPollOut                    // a connection's multishot POLLOUT poll
	reqWrite                      // a connection's sendmsg (uring_write_linux.go)
	reqCancel                     // the cancellation of one of those
)

// userData names request kind for c: the kind, c's tag (24 bits) and its
// socket number, so that a completion for a socket closed since, whose
// number may be reused already, is told apart.
func userData(kind reqKind, c *epollConn) uint64 {
	return uint64(kind)<<56 | uint64(c.tag&tagMask)<<32 | uint64(uint32(c.fd))
}

const tagMask = 1<<24 - 1

// uringIO is the io_uring loopIO. Its ring and buffers belong to the
// loop goroutine; wake and close are called with
// loop.mu held, close by the loop itself.
type uringIO struct {
	l      *loop
	ring   *uring.Ring
	bufs   *uring.BufRing
	faults *uringFaults // nil but in tests
	cqes   []uring.CQE  // completions copied out of the ring, being handled
	spare  []uring.CQE
	// rearm holds connections whose recv ended for want of buffers (or
	// was stopped by the kernel): armed again once the turn has given
	// its buffers back.
	rearm []*epollConn
	// stash holds, for connections not read at the moment (uStopped),
	// the bytes that arrived anyway, in order.
	stash map[*epollConn][]byte
	// flights holds the writes in the ring by their user data, until
	// their completion, even for connections that ended; free holds
	// flights for reuse.
	flights map[uint64]*flight
	free    []*flight
	queues  []*outQueue // empty queues for reuse (newQueue)
}

// startUringLocked starts GOMAXPROCS io_uring loops. When the kernel
// refuses the first ring it logs one line and starts epoll loops
// instead. Engine.mu must be held.
func (g *loops) startUringLocked() error {
	n := runtime.GOMAXPROCS(0)
	list := make([]*loop, 0, n)
	for range n {
		l := newLoop(g)
		ready := make(chan error, 1)
		g.wg.Add(1)
		go l.runUring(ready)
		if err := <-ready; err != nil {
			for _, l := range list {
				l.post(task{kind: taskExit})
			}
			g.wg.Wait()
			if !errors.Is(err, uring.ErrUnsupported) {
				return err
			}
			g.kind = Epoll
			g.e.opts.Logger.Warn("engine: the kernel refused io_uring; using epoll", "err", err)
			return g.startEpollLocked()
		}
		list = append(list, l)
	}
	g.list = list
	return nil
}

// runUring is an io_uring loop goroutine: it sets up its ring, reports
// how that went on ready, and runs the loop.
func (l *loop) runUring(ready chan<- error) {
	u, err := newUringIO(l, l.g.faults)
	if err != nil {
		l.g.wg.Done()
		ready <- err
		return
	}
	l.io = u
	ready <- nil
	l.run()
}

func newUringIO(l *loop, f *uringFaults) (*uringIO, error) {
	sq, cq, nbuf, size := f.sizes()
	r, err := f.setupRing(sq, uring.Options{CQEntries: cq})
	if err != nil {
		return nil, fmt.Errorf("engine: start io_uring loop: %w", err)
	}
	b, err := r.NewBufRing(recvGroup, nbuf, size)
	if err == nil {
		err = r.PrepareWait()
	}
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("engine: start io_uring loop: %w", err)
	}
	return &uringIO{
		l: l, ring: r, bufs: b, faults: f,
		stash: make(map[*epollConn][]byte), flights: make(map[uint64]*flight),
	}, nil
}

func (u *uringIO) add(c *epollConn) error {
	c.uflags = 0
	u.armRecv(c)
	u.armPollOut(c)
	return nil
}

func (u *uringIO) armPollOut(c *epollConn) {
	u.sqe().PrepPollAdd(int(c.fd), pollOut, true, userData(reqPollOut, c))
	c.uflags |= uPollOut
}

// cancel prepares the cancellation of c's request of kind.
func (u *uringIO) cancel(kind reqKind, c *epollConn) {
	u.sqe().PrepCancel(userData(kind, c), false, userData(reqCancel, c))
}

// forget cancels c's requests, which hold its socket open in the kernel
// until they end, and drops what c stashed. Completions that still come
// for c find its slot empty, or taken by a newer tag, and are dropped.
func (u *uringIO) forget(c *epollConn) {
	if c.uflags&uRecv != 0 {
		u.cancel(reqRecv, c)
	}
	if c.uflags&uPollOut != 0 {
		u.cancel(reqPollOut, c)
	}
	if u.flights[userData(reqWrite, c)] != nil {
		u.cancel(reqWrite, c)
	}
	c.uflags = 0
	delete(u.stash, c)
}

// sqe returns a free submission entry, submitting what is prepared when
// the queue is full.
func (u *uringIO) sqe() *uring.SQE {
	for {
		if s := u.ring.GetSQE(); s != nil {
			return s
		}
		if err := u.submit(false); err != nil {
			panic(err) // the ring is broken: a bug here, not the peer's doing
		}
	}
}

// submit hands the prepared requests to the kernel with one
// io_uring_enter (none when nothing is prepared, unless getEvents), and
// with getEvents has it post what waits: the completions of this
// thread's task work and those in its overflow list. A kernel that
// refuses submissions while completions wait in its overflow list
// (EBUSY) gets room: the ready ones are copied out for handle.
func (u *uringIO) submit(getEvents bool) error {
	for {
		var err error
		if getEvents {
			_, err = u.ring.SubmitAndWait(0)
		} else {
			_, err = u.ring.Submit()
		}
		if err == nil || !errors.Is(err, errBusy) {
			return err
		}
		u.collect(len(u.cqes) + int(u.ring.CQReady()))
		getEvents = true
	}
}

func (u *uringIO) wait(timeout int) error {
	if u.ring.CQOverflowed() {
		u.faults.sawOverflow()
		return u.submit(true)
	}
	if err := u.submit(false); err != nil || timeout == 0 || len(u.cqes) > 0 || u.ring.CQReady() > 0 {
		return err
	}
	_, err := u.ring.Wait(time.Now().Add(time.Duration(timeout) * time.Millisecond))
	return err
}

// collect copies ready completions into u.cqes, until it holds limit,
// and gives their slots back to the kernel, so that handling them never
// holds up the completion queue.
func (u *uringIO) collect(limit int) {
	for len(u.cqes) < limit {
		cqes := u.ring.Completions()
		if len(cqes) == 0 {
			return
		}
		cqes = cqes[:min(len(cqes), limit-len(u.cqes))]
		u.cqes = append(u.cqes, cqes...)
		u.ring.CQAdvance(uint32(len(cqes)))
	}
}

// handle handles the ready completions, at most cqeBatch copied out at a
// time, so that the copies, which stay in the heap, stay small however
// many come at once (a storm of new connections posts one each).
func (u *uringIO) handle() {
	u.collect(cqeBatch)
	for len(u.cqes) > 0 {
		batch := u.cqes
		u.cqes = u.spare[:0]
		for i := range batch {
			u.complete(&batch[i])
		}
		clear(batch)
		if cap(batch) > cqeBatch {
			batch = nil // grown while the kernel refused submissions (submit): not kept
		}
		u.spare = batch[:0]
		u.collect(cqeBatch)
	}
	u.rearmRecvs()
}

// complete handles one completion.
func (u *uringIO) complete(cq *uring.CQE) {
	u.faults.mangle(u, cq)
	c := u.conn(cq.UserData)
	switch reqKind(cq.UserData >> 56) {
	case reqRecv:
		u.onRecv(c, cq)
	case reqWrite:
		u.onWrite(cq)
	case reqPollOut:
		if c == nil {
			return
		}
		if !cq.More() {
			c.uflags &^= uPollOut
			u.armPollOut(c) // ended by the kernel (or a fault): the drain edge must keep coming
		}
		if cq.Res > 0 {
			u.l.drained(c)
			u.l.settle(c)
		}
	}
}

// conn returns the live connection a request's user data names, or nil.
func (u *uringIO) conn(ud uint64) *epollConn {
	fd, tag := int(int32(uint32(ud))), uint32(ud>>32)&tagMask
	if fd < 0 || fd >= len(u.l.slots) {
		return nil
	}
	c := u.l.slots[fd]
	if c == nil || c.tag&tagMask != tag {
		return nil
	}
	return c
}

func (u *uringIO) wake() { u.ring.Wake() }

func (u *uringIO) close() {
	u.ring.Close()
	u.stash = nil
}
