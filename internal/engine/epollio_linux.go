//go:build linux

package engine

import (
	"fmt"
	"io"
	"math"

	"github.com/wsgate/wsgate/internal/netpoll"
)

// This file is how a loop learns what its sockets did (loopIO), and the
// epoll way of it: readiness edges, after which the loop reads the
// socket itself. uring_linux.go is the other way.

// loopIO is a loop's view of its sockets: epoll readiness (epollIO) or
// io_uring completions (uringIO). Only the loop goroutine calls its
// methods, except wake and close, which are called with loop.mu held
// (close once, by the loop as it exits).
type loopIO interface {
	// add starts watching c's socket; c is in the loop's slots.
	add(c *epollConn) error
	// wait returns when something happened to a socket, wake was called
	// or timeout (milliseconds; 0: do not block) passed.
	wait(timeout int) error
	// handle acts on what the last wait found: it reads sockets, feeds
	// the bytes and flushes the sockets that drained.
	handle()
	// resume reads c again after it was not read for a full queue or
	// for the input budget.
	resume(c *epollConn)
	// forget is called when the loop closes c's socket.
	forget(c *epollConn)
	// wake makes a wait in progress, or the next one, return.
	wake()
	// flushLocked sends what waits in c.out (the loop's turn for frames
	// left to it, or a drained socket). c.mu must be held.
	flushLocked(c *epollConn)
	// endBatchLocked ends the batch of c's replies (stBatch) and, when
	// writable (c's socket took all it was given so far), sends the
	// loop's batch buffer and what waits in c.out behind it. c.mu must be
	// held.
	endBatchLocked(c *epollConn, writable bool)
	// close releases the poller or ring.
	close()
}

// epollIO is the epoll loopIO: sockets registered once, edge-triggered,
// for reading and writing.
type epollIO struct {
	l      *loop
	poll   *netpoll.Poller
	events []netpoll.Event
	n      int // events found by the last wait
}

func (p *epollIO) add(c *epollConn) error { return p.poll.Add(int(c.fd), c.tag) }

func (p *epollIO) wait(timeout int) error {
	n, _, err := p.poll.Wait(p.events, timeout)
	p.n = n
	return err
}

func (p *epollIO) handle() {
	for _, ev := range p.events[:p.n] {
		p.l.onEvent(ev)
	}
	p.l.readAgain()
}

func (p *epollIO) resume(c *epollConn) { p.l.read(c, true) }

func (p *epollIO) forget(*epollConn) {}

func (p *epollIO) wake() { p.poll.Wake() }

func (p *epollIO) close() { p.poll.Close() }

func (p *epollIO) flushLocked(c *epollConn) { p.l.iov = c.flushBatchLocked(p.l.iov, p.l.now) }

func (p *epollIO) endBatchLocked(c *epollConn, writable bool) {
	l := p.l
	if writable {
		l.iov = c.writeBatchLocked(l.iov, l.now)
	}
	c.state &^= stBatch
	l.batchOK = false
	if writable && c.out != nil {
		l.iov = c.flushBatchLocked(l.iov, l.now)
	}
}

// onEvent handles one readiness event.
func (l *loop) onEvent(ev netpoll.Event) {
	fd := int(ev.FD)
	if fd < 0 || fd >= len(l.slots) {
		return
	}
	c := l.slots[fd]
	if c == nil || c.tag != ev.Tag {
		return // the connection ended; the number may be reused already
	}
	if ev.Events&netpoll.Writable != 0 {
		l.drained(c)
	}
	if ev.Events&(netpoll.Readable|netpoll.PeerHangUp|netpoll.HangUp|netpoll.Error) != 0 {
		l.read(c, ev.Events&(netpoll.PeerHangUp|netpoll.HangUp|netpoll.Error) != 0)
	}
	l.settle(c)
}

// drained writes what waits for c, whose socket can take bytes again.
func (l *loop) drained(c *epollConn) {
	c.mu.Lock()
	if c.out != nil {
		l.io.flushLocked(c)
	}
	c.mu.Unlock()
}

// read reads c's socket until the kernel has nothing more (or the peer's
// end of stream), feeding the bytes to the decoder. hangUp says the event
// reported the peer's FIN or an error: then a short read is not taken to
// mean that all was read, since no new edge will come for the FIN.
//
// What the Handler (or any goroutine) writes meanwhile is batched and
// written with one writev once the reads are done, before the peer's end
// of stream is acted on.
func (l *loop) read(c *epollConn, hangUp bool) {
	if c.rflags&rPaused != 0 {
		return // it keeps its place in l.paused
	}
	writable := c.beginBatch()
	end := l.readBatch(c, hangUp)
	c.endBatch(writable)
	if end != nil {
		c.abort(end)
	}
}

// readBatch is read's loop. It returns io.EOF when the peer ended its
// stream; read errors abort c at once.
func (l *loop) readBatch(c *epollConn, hangUp bool) (end error) {
	for range maxReadsPerEvent {
		if c.rflags&rDone != 0 {
			return nil // the peer's Close arrived; what follows is ignored
		}
		room := l.readRoom(c)
		if room == 0 {
			return nil // taskResume or resumePaused reads on
		}
		buf := l.buf[:min(len(l.buf), room)]
		n, err := netpoll.Read(int(c.fd), buf)
		switch {
		case n > 0:
			c.onRead(l.now)
			l.feed(c, buf[:n])
			if n < len(buf) && !hangUp || c.aborted() {
				return nil
			}
		case err == nil:
			return io.EOF
		case netpoll.IsAgain(err):
			return nil
		default:
			c.abort(fmt.Errorf("engine: read: %w", err))
			return nil
		}
	}
	l.again = append(l.again, c)
	return nil
}

// readRoom reports how many bytes c may be fed now: none while its queue
// is over its limit (holdReading) or while the input budget is spent and
// c, holding a partial message, cannot take the budget's lease (then c
// is paused); spentReadSize while the budget is spent and c is between
// messages; else any number.
func (l *loop) readRoom(c *epollConn) int {
	if c.holdReading(l.now) {
		return 0
	}
	if l.e.input.spent() {
		if c.rd != nil && !c.takeLease() {
			l.pause(c)
			return 0
		}
		if c.rd == nil {
			return spentReadSize
		}
	}
	return math.MaxInt
}

// readAgain gives the connections that had more to read their next turn.
func (l *loop) readAgain() {
	if len(l.again) == 0 {
		return
	}
	again := l.again
	l.again = nil
	for _, c := range again {
		if l.owns(c) {
			l.read(c, true)
			l.settle(c)
		}
	}
	clear(again)
}
