//go:build linux

package engine

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"

	"github.com/wsgate/wsgate/internal/netpoll"
	"github.com/wsgate/wsgate/ws"
)

// This file is the epoll engine's connection: its transport and its write
// path. Writes happen under c.mu on whichever goroutine writes, so no two
// writes interleave and the socket is never written after the loop closed
// it (finish sets stAborted under c.mu before closing).

// epollConn is a Conn run by an epoll loop: its transport. The loop owns
// the socket: it alone reads it, closes it and touches tag and rd. Any
// goroutine may write it under Conn.mu.
type epollConn struct {
	Conn
	l  *loop // the loop that owns the socket
	fd int32 // the socket, a duplicate owned by l
	// tag tells this connection's events from those of an earlier socket
	// with the same number. Only the loop touches it.
	tag uint32
	// stallAt is the engine clock when the socket last refused bytes
	// while data waited; 0 when nothing waits. Guarded by Conn.mu.
	stallAt int64
	rd      *ws.Reader // held only while a frame or fragmented message is partial; loop only
	// The peer's address, kept in 19 bytes rather than a netip.AddrPort's
	// 32 (an IPv6 zone is dropped): this struct is what an idle
	// connection costs.
	peerIP   [16]byte
	peerPort uint16
	peerV4   bool
	// uflags is what a Uring loop's requests for the socket are doing
	// (uring_read_linux.go); only the loop touches it. Zero under Epoll.
	uflags uringFlags
}

// setPeer records the peer's address.
func (c *epollConn) setPeer(ap netip.AddrPort) {
	a := ap.Addr().Unmap()
	c.peerIP, c.peerPort, c.peerV4 = a.As16(), ap.Port(), a.Is4()
}

// peer returns the peer's address.
func (c *epollConn) peer() netip.AddrPort {
	a := netip.AddrFrom16(c.peerIP)
	if c.peerV4 {
		a = a.Unmap()
	}
	return netip.AddrPortFrom(a, c.peerPort)
}

func (c *epollConn) servedBy() *Engine { return c.l.e }

func (c *epollConn) peerAddr() net.Addr { return net.TCPAddrFromAddrPort(c.peer()) }

// sendLocked writes f to the socket at once when nothing waits and the
// loop is not handling c's input; while it is, a data or control frame
// joins the loop's batch buffer when batchesLocked allows. Our Close
// frame never joins the batch: it waits in c.out, behind the batch, so
// that its writing is seen. c.mu must be held.
func (c *epollConn) sendLocked(f frameBufs, kind frameKind, owned bool) bool {
	if c.out == nil && c.state&stBatch == 0 {
		c.sendNowLocked(f.b[:f.n], kind, owned)
		return true
	}
	if kind != kindClose && c.batchesLocked(f.size()) {
		c.appendBatchLocked(f.b[:f.n]...)
		return true
	}
	return false
}

// passLocked leaves wire to the loop: into its batch buffer while it
// handles c's input, or queued by reference, with c put on the loop's
// list of connections to flush unless someone writes what is queued
// already (the loop's batch flush, its pass over deferred connections,
// or the drain edge of a socket that refused bytes). c.mu must be held;
// flushLater takes the loop's lock after it, as post does.
func (c *epollConn) passLocked(wire []byte) error {
	if c.batchesLocked(len(wire)) {
		c.appendBatchLocked(wire)
		return nil
	}
	wake := c.state&(stBatch|stDeferred) == 0 && c.out == nil
	if wake {
		c.state |= stDeferred
	}
	err := c.queueDataLocked(wire)
	if wake {
		c.l.flushLater(c)
	}
	return err
}

// flushHeldLocked writes the batch, or the frames left to the loop's
// turn, before the slow-consumer policy judges the queue. c.mu must be
// held.
func (c *epollConn) flushHeldLocked() {
	if c.state&(stBatch|stDeferred) != 0 {
		c.flushBatchLocked(nil, c.l.e.now())
	}
}

// resumeReadLocked asks the loop to read c again: it stopped reading a
// socket whose readable edge it had already seen. c.mu must be held;
// post takes the loop's lock after it.
func (c *epollConn) resumeReadLocked() { c.l.post(task{kind: taskResume, c: c}) }

// signal does nothing: what waits is written when the socket drains, or
// on the loop's turn.
func (c *epollConn) signal() {}

// closeStartedLocked does nothing: the loop's sweep applies closeBy.
func (c *epollConn) closeStartedLocked() {}

// finLocked sends FIN after our Close frame. c.mu must be held.
func (c *epollConn) finLocked() {
	if c.state&stAborted == 0 {
		netpoll.ShutdownWrite(int(c.fd))
	}
}

func (c *epollConn) stalledLocked(now int64) bool {
	return c.stallAt != 0 && now-c.stallAt >= int64(c.l.e.opts.WriteTimeout)
}

// abortedLocked asks the loop to close the socket and call OnClose.
func (c *epollConn) abortedLocked() { c.l.post(task{kind: taskSettle, c: c}) }

// alarmSetLocked does nothing: the loop's sweep rings the alarm.
func (c *epollConn) alarmSetLocked() {}

// dropped does nothing: the loop closes the socket.
func (c *epollConn) dropped() {}

// sendNowLocked writes the frame made of bufs to the socket at once; c.out
// must be nil (nothing waits). What the socket does not take becomes the
// head of c.out, to be sent when the socket drains: bufs[0] itself when
// owned (the bytes are never modified), a copy otherwise. c.mu must be
// held.
func (c *epollConn) sendNowLocked(bufs [][]byte, kind frameKind, owned bool) {
	total := 0
	for _, b := range bufs {
		total += len(b)
	}
	written := 0
	rest := bufs // what is left to write; skip trims it in place
	for written < total {
		c.l.writes.Add(1)
		n, err := netpoll.Writev(int(c.fd), rest)
		written += n
		rest = skip(rest, n)
		if err != nil {
			if !netpoll.IsAgain(err) {
				c.abortLocked(fmt.Errorf("engine: write: %w", err))
				return
			}
			break
		}
	}
	if written == total {
		if kind == kindClose {
			c.closeWrittenLocked()
		}
		return
	}
	// The socket is full: the EAGAIN just seen means an edge will come
	// when it drains, and flushLocked sends the rest then.
	var tail []byte
	if owned && len(rest) == 1 {
		tail = rest[0]
	} else {
		tail = make([]byte, 0, total-written)
		for _, b := range rest {
			tail = append(tail, b...)
		}
	}
	c.out = &outQueue{head: tail, headKind: kind}
	if kind == kindData {
		c.queued += len(tail)
	}
	c.stallAt = c.l.e.now()
}

// skip returns bufs without its first n bytes, dropping empty buffers; it
// may modify bufs.
func skip(bufs [][]byte, n int) [][]byte {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if len(bufs) > 0 && n > 0 {
		bufs[0] = bufs[0][n:]
	}
	return bufs
}

// flushLocked writes what waits in c.out until the socket is full or
// nothing is left. iov is scratch space, returned for reuse; now is the
// engine clock. Called by the loop when the socket reports it can take
// bytes, and to flush a batch. c.mu must be held.
func (c *epollConn) flushLocked(iov [][]byte, now int64) [][]byte {
	for c.out != nil && c.state&(stAborted|stFlight) == 0 {
		iov = c.out.gather(iov[:0], netpoll.MaxIovecs)
		c.l.writes.Add(1)
		n, err := netpoll.Writev(int(c.fd), iov)
		clear(iov)
		if n > 0 {
			data, closeDone := c.out.advance(n)
			c.dequeuedLocked(data)
			c.stallAt = now
			if c.out.empty() {
				c.out = nil
				c.stallAt = 0
			}
			if closeDone {
				c.closeWrittenLocked()
			}
		}
		if err != nil {
			if !netpoll.IsAgain(err) {
				c.abortLocked(fmt.Errorf("engine: write: %w", err))
			}
			break
		}
	}
	return iov
}

// beginBatch makes c's writes wait in c.out while the loop handles the
// peer's input, so that the replies to many messages leave in one writev.
// It reports whether the socket may take bytes: false when data waited
// already, for then the socket refused bytes and its drain edge flushes
// the batch too. Only the loop calls it.
func (c *epollConn) beginBatch() (writable bool) {
	c.mu.Lock()
	c.state |= stBatch
	writable = c.out == nil
	c.l.batch, c.l.batchOK = c.l.batch[:0], writable
	c.mu.Unlock()
	return writable
}

// Bounds of a loop's batch buffer: a larger frame is queued as usual
// (by reference when shared), and the buffer is written out before it
// would grow past maxBatchBytes.
const (
	maxBatchedFrame = 4 << 10
	maxBatchBytes   = 64 << 10
)

// batchesLocked reports whether a data frame of about n bytes goes into
// the loop's batch buffer: c's input is being handled, its socket took
// everything so far, and no data or Close waits in c.out ahead of it
// (control frames may: they are not ordered against data). c.mu must be
// held.
func (c *epollConn) batchesLocked(n int) bool {
	l := c.l
	if c.state&stBatch == 0 || !l.batchOK || n > maxBatchedFrame {
		return false
	}
	if q := c.out; q != nil && (len(q.head) > 0 || len(q.data) > 0 || q.closeFrame != nil) {
		return false
	}
	if len(l.batch)+n > maxBatchBytes {
		c.writeBatchLocked(nil, l.e.now())
		return l.batchOK
	}
	return true
}

// appendBatchLocked appends bufs, together one frame, to the loop's batch
// buffer. c.mu must be held, and batchesLocked must have said yes.
func (c *epollConn) appendBatchLocked(bufs ...[]byte) {
	for _, b := range bufs {
		c.l.batch = append(c.l.batch, b...)
	}
}

// writeBatchLocked writes the loop's batch buffer, which holds c's
// frames, and behind it what waits in c.out (control frames queued
// before the batch, our Close), with one system call, and empties the
// buffer. What the socket refuses of the buffer is copied to the head of
// c.out. iov is scratch space, returned for reuse. c.mu must be held.
func (c *epollConn) writeBatchLocked(iov [][]byte, now int64) [][]byte {
	l := c.l
	b := l.batch
	l.batch = b[:0]
	if len(b) == 0 || c.state&stAborted != 0 {
		return iov
	}
	iov = append(iov[:0], b)
	if c.out != nil {
		iov = c.out.gather(iov, netpoll.MaxIovecs)
	}
	l.writes.Add(1)
	n, err := netpoll.Writev(int(c.fd), iov)
	clear(iov)
	if err != nil && !netpoll.IsAgain(err) {
		l.batchOK = false
		c.abortLocked(fmt.Errorf("engine: write: %w", err))
		return iov
	}
	if n < len(b) {
		// batchesLocked let nothing but control frames and our Close
		// into c.out: the rest of the buffer goes ahead of them.
		l.batchOK = false
		q := c.queueLocked()
		q.head, q.headKind = bytes.Clone(b[n:]), kindData
		c.queued += len(b) - n
		c.stallAt = now
		return iov
	}
	if n > len(b) {
		data, closeDone := c.out.advance(n - len(b))
		c.dequeuedLocked(data)
		if c.out.empty() {
			c.out, c.stallAt = nil, 0
		}
		if closeDone {
			c.closeWrittenLocked()
		}
	}
	return iov
}

// endBatch ends what beginBatch started and, when the socket may take
// bytes, sends what the batch queued (loopIO.endBatchLocked). Only the
// loop calls it.
func (c *epollConn) endBatch(writable bool) {
	c.mu.Lock()
	c.l.io.endBatchLocked(c, writable)
	c.mu.Unlock()
}

// flushBatchLocked writes what waits in c.out and, when the socket
// refuses some of it, starts the write timeout. c.mu must be held.
func (c *epollConn) flushBatchLocked(iov [][]byte, now int64) [][]byte {
	if c.state&stBatch != 0 && c.l.batchOK {
		iov = c.writeBatchLocked(iov, now)
	}
	iov = c.flushLocked(iov, now)
	if c.out != nil && c.stallAt == 0 {
		c.stallAt = now
	}
	return iov
}
