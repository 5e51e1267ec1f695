//go:build linux

package engine

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/wsgate/wsgate/internal/netpoll"
	"github.com/wsgate/wsgate/internal/uring"
)

// This file is the write side of the io_uring loopIO. What the loop
// writes (the replies batched while it handled a connection's input, the
// frames left to its turn, what waits when a socket drains) becomes a
// sendmsg request, and every request of a turn goes to the kernel with
// the one io_uring_enter that ends it; a fan-out to thousands of
// connections is a few of them (ringEntries requests each), not one
// writev per connection.
//
// While a connection's request is in the ring (stFlight) its buffers are
// held by the flight, and the connection behaves as if its socket had
// refused bytes: c.out is not nil, so other writers queue behind it, and
// nobody writes the socket directly. The completion plays the part of
// the drain edge and of the write's result: a short send sends the rest,
// and when the flight is done what queued meanwhile leaves in the next.
// sendmsg on a full socket waits in the kernel (io_uring polls it), so a
// flight stays in the ring while the peer does not read; the sweep's
// WriteTimeout applies as under epoll, from stallAt.
//
// Writers on other goroutines still write the socket directly with
// writev when nothing waits (conn_epoll_linux.go), as under epoll.

// flight is a connection's write in the ring: the buffers it sends, in
// order, the first perhaps partly sent already, and the iovecs and
// msghdr the request points to. All stay alive until its completion.
type flight struct {
	bufs  [][]byte
	kinds []frameKind
	iov   []unix.Iovec
	msg   unix.Msghdr
	// own is the loop's batch buffer the flight took over (the loop
	// took the flight's old one in exchange), kept for reuse.
	own []byte
}

func (f *flight) add(b []byte, kind frameKind) {
	f.bufs = append(f.bufs, b)
	f.kinds = append(f.kinds, kind)
}

// advance drops the first n bytes sent, returning the bytes of data
// frames among them and whether our Close frame went out whole.
func (f *flight) advance(n int) (dataBytes int, closeDone bool) {
	i := 0
	for ; i < len(f.bufs) && n > 0; i++ {
		k := min(n, len(f.bufs[i]))
		if f.kinds[i] == kindData {
			dataBytes += k
		}
		n -= k
		if k < len(f.bufs[i]) {
			f.bufs[i] = f.bufs[i][k:]
			break
		}
		closeDone = closeDone || f.kinds[i] == kindClose
	}
	// Move what is left to the front rather than reslice, so that the
	// flight's slices keep their room for the next write.
	k := copy(f.bufs, f.bufs[i:])
	copy(f.kinds, f.kinds[i:])
	clear(f.bufs[k:])
	f.bufs, f.kinds = f.bufs[:k], f.kinds[:k]
	return dataBytes, closeDone
}

// moveTo moves q's entries, in write order, to f, until f holds max
// buffers; q keeps the rest.
func (q *outQueue) moveTo(f *flight, max int) {
	if len(q.head) > 0 && len(f.bufs) < max {
		f.add(q.head, q.headKind)
		q.head = nil
	}
	q.control = moveList(f, q.control, kindControl, max)
	q.data = moveList(f, q.data, kindData, max)
	if q.closeFrame != nil && len(f.bufs) < max {
		f.add(q.closeFrame, kindClose)
		q.closeFrame = nil
	}
}

func moveList(f *flight, list [][]byte, kind frameKind, max int) [][]byte {
	k := min(len(list), max-len(f.bufs))
	if k <= 0 {
		return list
	}
	for _, b := range list[:k] {
		f.add(b, kind)
	}
	clear(list[:k])
	if k == len(list) {
		return nil
	}
	return list[k:]
}

func (u *uringIO) flushLocked(c *epollConn) { u.sendLocked(c, false) }

func (u *uringIO) endBatchLocked(c *epollConn, writable bool) {
	l := u.l
	c.state &^= stBatch
	l.batchOK = false
	u.sendLocked(c, writable)
	l.batch = l.batch[:0]
}

// sendLocked starts a write of what waits in c.out, preceded, with
// batch, by the loop's batch buffer (data frames not yet counted in
// c.queued), unless a write is in the ring already: its completion sends
// what waits. The flight takes the batch buffer over and gives the loop
// its old one, so that the bytes are not copied. c.mu must be held.
func (u *uringIO) sendLocked(c *epollConn, batch bool) {
	if c.state&(stFlight|stAborted) != 0 {
		return
	}
	f := u.newFlight()
	if l := u.l; batch && len(l.batch) > 0 {
		f.own, l.batch = l.batch, f.own[:0]
		f.add(f.own, kindData)
		c.queued += len(f.own)
	}
	if c.out != nil {
		c.out.moveTo(f, netpoll.MaxIovecs)
	}
	if len(f.bufs) == 0 {
		u.free = append(u.free, f)
		if c.out != nil && c.out.empty() {
			u.keepQueue(c.out)
			c.out, c.stallAt = nil, 0
		}
		return
	}
	if c.out == nil {
		c.out = u.newQueue() // others queue behind the flight
	}
	c.state |= stFlight
	if c.stallAt == 0 {
		c.stallAt = u.l.now
	}
	u.flights[userData(reqWrite, c)] = f
	u.submitFlight(c, f)
}

// submitFlight prepares the sendmsg of what f holds.
func (u *uringIO) submitFlight(c *epollConn, f *flight) {
	f.iov = f.iov[:0]
	limit := u.faults.writeLimit()
	for _, b := range f.bufs {
		n := min(len(b), limit)
		if n == 0 {
			break
		}
		limit -= n
		v := unix.Iovec{Base: &b[0]}
		v.SetLen(n)
		f.iov = append(f.iov, v)
	}
	f.msg = unix.Msghdr{Iov: &f.iov[0]}
	f.msg.SetIovlen(len(f.iov))
	u.sqe().PrepSendmsg(int(c.fd), &f.msg, unix.MSG_NOSIGNAL, userData(reqWrite, c))
	u.l.writes.Add(1)
}

// onWrite handles the completion of a flight.
func (u *uringIO) onWrite(cq *uring.CQE) {
	f := u.flights[cq.UserData]
	if f == nil {
		return
	}
	c := u.conn(cq.UserData)
	if c == nil {
		u.endFlight(cq.UserData, f)
		return
	}
	c.mu.Lock()
	switch res := cq.Res; {
	case res > 0:
		data, closeDone := f.advance(int(res))
		c.stallAt = u.l.now
		c.dequeuedLocked(data)
		if closeDone {
			c.closeWrittenLocked()
		}
	case res == 0 || res == -int32(unix.EAGAIN) || res == -int32(unix.EINTR) || res == -int32(unix.ECANCELED):
		// Nothing sent (a cancellation we did not ask for comes from a
		// fault): send it again.
	default:
		c.abortLocked(fmt.Errorf("engine: write: %w", syscall.Errno(-res)))
	}
	if len(f.bufs) > 0 && c.state&stAborted == 0 {
		u.submitFlight(c, f) // a short send: the rest
	} else {
		u.endFlight(cq.UserData, f)
		c.state &^= stFlight
		u.sendLocked(c, false)
	}
	c.mu.Unlock()
	u.l.settle(c)
}

// newQueue returns an empty outQueue, one the loop kept if it can: a
// flight per reply would otherwise make one per reply.
func (u *uringIO) newQueue() *outQueue {
	if k := len(u.queues); k > 0 {
		q := u.queues[k-1]
		u.queues[k-1] = nil
		u.queues = u.queues[:k-1]
		return q
	}
	return &outQueue{}
}

// keepQueue keeps q, empty and no longer any connection's c.out, for
// newQueue.
func (u *uringIO) keepQueue(q *outQueue) {
	if len(u.queues) < maxFreeFlights {
		*q = outQueue{}
		u.queues = append(u.queues, q)
	}
}

func (u *uringIO) newFlight() *flight {
	if k := len(u.free); k > 0 {
		f := u.free[k-1]
		u.free = u.free[:k-1]
		return f
	}
	return &flight{}
}

// endFlight forgets the flight of request ud and keeps f for reuse.
func (u *uringIO) endFlight(ud uint64, f *flight) {
	delete(u.flights, ud)
	clear(f.bufs)
	clear(f.iov)
	f.bufs, f.kinds, f.iov, f.msg = f.bufs[:0], f.kinds[:0], f.iov[:0], unix.Msghdr{}
	if cap(f.own) > maxKeptBatch {
		f.own = nil
	}
	if len(u.free) < maxFreeFlights {
		u.free = append(u.free, f)
	}
}

// Bounds of what a loop keeps for reuse: flights (and as many empty
// outQueues), and the batch copy each flight holds (bytes).
const (
	maxFreeFlights = 1024
	maxKeptBatch   = maxBatchBytes
)
