//go:build linux

package engine

import (
	"fmt"
	"io"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/wsgate/wsgate/internal/uring"
)

// This file is the read side of the io_uring loopIO. A connection's
// multishot recv stays armed for its life: bytes arrive in a provided
// buffer, are fed to the decoder as the epoll loop feeds what it reads
// (under the same batch, budget and queue rules), and the buffer goes
// back to the ring at once. A recv that ends without the connection
// ending (the buffers ran out, the kernel stopped it) is armed again at
// the end of the turn.
//
// Not reading a connection (its queue is full, or the input budget is
// spent: readRoom) cannot leave the bytes in the socket as epoll does,
// since the recv may have taken more already: what is not fed waits in
// the loop's stash, the recv is cancelled, and what arrives before the
// cancellation lands joins the stash. resume feeds the stash and arms a
// new recv.
//
// A stash holds at most what the connection received in the turn that
// stopped it (the completions the kernel had posted; the cancellation
// leaves with that turn's io_uring_enter, and a loop's buffer ring holds
// 4 MiB in all), where epoll leaves the same bytes in the socket. It is
// not charged to the input budget: a connection stopped for a spent
// budget waits for bytes to be freed, and bytes it held itself would
// never be.

// uringFlags is what a Uring loop's requests for a connection are
// doing. Only the loop touches them.
type uringFlags uint8

const (
	uRecv    uringFlags = 1 << iota // a multishot recv is armed: its last completion has not come
	uPollOut                        // a multishot POLLOUT poll is armed
	uStopped                        // c is not read: bytes that arrive wait in the stash
	uEOF                            // the peer's end of stream came while c was stopped
)

const (
	pollOut = unix.POLLOUT
	errBusy = unix.EBUSY
)

func (u *uringIO) armRecv(c *epollConn) {
	u.sqe().PrepRecvMultishot(int(c.fd), recvGroup, userData(reqRecv, c))
	c.uflags |= uRecv
}

// onRecv handles a completion of c's recv; c is nil when the connection
// ended since.
func (u *uringIO) onRecv(c *epollConn, cq *uring.CQE) {
	if cq.HasBuffer() {
		id := cq.BufferID()
		if c != nil && cq.Res > 0 {
			u.received(c, u.bufs.Buffer(id, int(cq.Res)))
		}
		u.bufs.Recycle(id)
	}
	if c == nil || cq.More() {
		if c != nil {
			u.l.settle(c)
		}
		return
	}
	c.uflags &^= uRecv
	switch res := cq.Res; {
	case res == 0:
		if c.uflags&uStopped != 0 {
			c.uflags |= uEOF // acted on once the stash is fed
		} else {
			c.abort(io.EOF)
		}
	case res > 0 || res == -int32(unix.ENOBUFS) || res == -int32(unix.ECANCELED) ||
		res == -int32(unix.EAGAIN) || res == -int32(unix.EINTR):
		// The recv ended but the stream did not: the ring ran out of
		// buffers, our cancellation landed, or the kernel stopped it.
		if c.uflags&uStopped == 0 {
			u.rearm = append(u.rearm, c)
		}
	default:
		c.abort(fmt.Errorf("engine: read: %w", syscall.Errno(-res)))
	}
	u.l.settle(c)
}

// received feeds b, borrowed from the buffer ring, to c, or stashes it
// while c is not read.
func (u *uringIO) received(c *epollConn, b []byte) {
	if c.uflags&uStopped != 0 {
		u.stash[c] = append(u.stash[c], b...)
		return
	}
	if rest := u.l.take(c, b); len(rest) > 0 {
		c.uflags |= uStopped
		u.stash[c] = append([]byte(nil), rest...)
		if c.uflags&uRecv != 0 {
			u.cancel(reqRecv, c)
		}
	}
}

// take feeds b to c as the epoll loop's read feeds what it reads, in one
// batch, so that the replies leave together. It returns the part of b
// that c may not be fed now (readRoom), which is nothing once c failed,
// ended or got the peer's Close.
func (l *loop) take(c *epollConn, b []byte) []byte {
	writable := c.beginBatch()
	for len(b) > 0 && c.rflags&rDone == 0 {
		room := l.readRoom(c)
		if room == 0 {
			break
		}
		k := min(len(b), room, recvBufferSize) // a stash is fed a buffer's worth at a time, as it came
		c.onRead(l.now)
		l.feed(c, b[:k])
		b = b[k:]
		if c.aborted() {
			b = nil
		}
	}
	c.endBatch(writable)
	if c.rflags&rDone != 0 {
		return nil
	}
	return b
}

// resume feeds c what it stashed and, when all of it went in, reads c
// again: a new recv, unless the old one has yet to report its
// cancellation (then onRecv arms one).
func (u *uringIO) resume(c *epollConn) {
	if c.rflags&rPaused != 0 || c.uflags&uStopped == 0 {
		return // paused: it keeps its place in l.paused; not stopped: its recv is armed
	}
	rest := u.stash[c]
	delete(u.stash, c)
	c.uflags &^= uStopped
	if rest = u.l.take(c, rest); len(rest) > 0 {
		c.uflags |= uStopped
		u.stash[c] = rest
		return
	}
	switch {
	case c.uflags&uEOF != 0:
		c.abort(io.EOF)
	case c.uflags&uRecv == 0:
		u.armRecv(c)
	}
}

// rearmRecvs arms again the recvs that ended without their connection.
func (u *uringIO) rearmRecvs() {
	for i, c := range u.rearm {
		if u.l.owns(c) && c.uflags&(uRecv|uStopped) == 0 {
			u.armRecv(c)
		}
		u.rearm[i] = nil
	}
	u.rearm = u.rearm[:0]
}
