package engine

import (
	"bufio"
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// This file holds the goroutine engine: one goroutine reads a connection
// and one writes it. It runs on every system and serves TLS.

// goConn is a Conn run by the goroutine engine: its transport. Its
// fields are set by serveGoroutine; after that only the read goroutine
// changes br (it consumes it). The read goroutine alone reads nc and the
// writer goroutine alone writes it, taking what the Conn queued under
// Conn.mu; the close deadline and the half-close are set under Conn.mu
// from any goroutine, and dropped closes nc from any.
type goConn struct {
	Conn
	e  *Engine
	nc net.Conn
	br *bufio.Reader // bytes sent right after the handshake; nil once consumed

	work       chan struct{} // a token tells the writer there is work
	writerDone chan struct{} // closed when the writer goroutine returns
	stop       chan struct{} // closed with nc: a reader waiting for the input budget returns
	// drained is closed when the queue is back within its limit, for a
	// reader that stopped for it (awaitQueue); nil when none waits.
	// Guarded by Conn.mu.
	drained   chan struct{}
	readBy    int64     // engine clock: the read deadline set outside closing; guarded by Conn.mu
	closeOnce sync.Once // closes nc and stop
}

func (g *goConn) servedBy() *Engine { return g.e }

func (g *goConn) peerAddr() net.Addr { return g.nc.RemoteAddr() }

// sendLocked sends nothing by itself: every frame waits in the queue for
// the writer goroutine.
func (g *goConn) sendLocked(frameBufs, frameKind, bool) bool { return false }

// passLocked queues the shared frame for the writer goroutine.
func (g *goConn) passLocked(wire []byte) error { return g.queueDataLocked(wire) }

// flushHeldLocked has nothing to do: the writer holds nothing back.
func (g *goConn) flushHeldLocked() {}

// resumeReadLocked wakes the reader waiting in awaitQueue.
func (g *goConn) resumeReadLocked() {
	if g.drained != nil {
		close(g.drained)
		g.drained = nil
	}
}

func (g *goConn) signal() {
	select {
	case g.work <- struct{}{}:
	default:
	}
}

// closeStartedLocked bounds the wait for the peer's Close: the reader's
// next read times out at closeBy.
func (g *goConn) closeStartedLocked() { g.nc.SetReadDeadline(g.e.clock(g.more.closeBy)) }

func (g *goConn) finLocked() {
	if cw, ok := g.nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

// stalledLocked is always false: each write carries its own deadline.
func (g *goConn) stalledLocked(int64) bool { return false }

// alarmSetLocked brings the read deadline forward to the alarm when it
// comes first. A deadline left earlier than a later alarm only makes the
// reader look at its timeouts once for nothing. While closing, the
// deadline is the closing handshake's. It may run on any goroutine, so it
// touches none of the reader's own fields.
func (g *goConn) alarmSetLocked() {
	if at := g.alarmLocked(); g.state&stCloseSent == 0 && at != 0 && at < g.readBy {
		g.readBy = at
		g.nc.SetReadDeadline(g.e.clock(g.readBy))
	}
}

// abortedLocked has nothing to do under c.mu; dropped closes nc.
func (g *goConn) abortedLocked() {}

// dropped closes nc, which ends a blocked read or write, and wakes the
// writer so that it sees stAborted and returns.
func (g *goConn) dropped() {
	g.closeOnce.Do(func() {
		g.nc.Close()
		close(g.stop)
	})
	g.signal()
}

// serveGoroutine starts nc's two goroutines, one reading and one
// writing, and returns. They start with small stacks: run on the
// caller's goroutine, the reader would sit under net/http's frames and
// keep about 7 KB more per connection (its stack, doubled by the deepest
// message handling, could not shrink back; measured with
// WSGATE_MEASURE=1, TestMeasureDeflate).
func (e *Engine) serveGoroutine(nc net.Conn, br *bufio.Reader, h Handler, pmd wsflate.Params) error {
	g := &goConn{
		Conn: Conn{h: h, pmd: pmd},
		e:    e, nc: nc, br: br,
		work:       make(chan struct{}, 1),
		writerDone: make(chan struct{}),
		stop:       make(chan struct{}),
	}
	g.tr = g
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		e.refuse(nc)
		return ErrEngineClosed
	}
	e.gconns[&g.Conn] = struct{}{}
	e.n.Add(1)
	e.wg.Add(2)
	e.mu.Unlock()

	go g.writeLoop()
	go g.readLoop()
	return nil
}

// readLoop runs the connection's read side on its own goroutine: it
// decodes frames, answers pings and Close frames, delivers messages, keeps
// the connection alive with pings and ends it when the peer goes quiet.
func (g *goConn) readLoop() {
	e := g.e
	defer e.wg.Done()
	g.lastRead = e.now()
	g.h.OnOpen(&g.Conn)

	r := ws.NewReader(g.readerOptions())
	if g.br != nil && g.br.Buffered() > 0 {
		early, _ := g.br.Peek(g.br.Buffered())
		g.feed(r, early)
	}
	g.br = nil

	buf := make([]byte, e.opts.ReadBufferSize)
	for g.rflags&rDone == 0 {
		if g.holdReading(e.now()) {
			if !g.awaitQueue() {
				break
			}
			continue
		}
		b := buf
		if e.input.spent() {
			if r.Buffered() > 0 && !g.takeLease() {
				if !g.awaitInput() {
					break
				}
				continue
			}
			if r.Buffered() == 0 {
				b = buf[:min(len(buf), spentReadSize)]
			}
		}
		g.armReadDeadline()
		n, err := g.nc.Read(b)
		if n > 0 {
			g.onRead(e.now())
			g.feed(r, b[:n])
		}
		if err != nil && g.rflags&rDone == 0 {
			if isTimeout(err) && !g.keepAlive(e.now()) {
				continue
			}
			g.abort(err)
			break
		}
	}
	g.chargeInput(0)
	// After the peer's Close, let the writer send our answer; otherwise
	// (an error, or no answer to our Close in time) there is no one to
	// wait for.
	g.finish(g.rflags&rDone != 0)
}

// feed decodes b and charges what r holds afterwards to the input
// budget. A reader that held a large part of a message (keepReaderBuf or
// more) and now holds nothing drops its buffer, so that a connection
// keeps no large buffer between messages; smaller ones are reused. A
// failed or done reader's bytes are dropped.
func (g *goConn) feed(r *ws.Reader, b []byte) {
	g.consume(r, b)
	n := r.Footprint()
	if g.rflags&(rFailed|rDone) != 0 && n > 0 {
		r.Reset(g.readerOptions())
		n = 0
	}
	if n == 0 && g.inputHeld >= keepReaderBuf {
		r.Release()
	}
	g.chargeInput(n)
}

// keepReaderBuf is the most, in bytes, a goroutine connection's decoder
// is seen to hold of a message and still keeps its buffer afterwards.
const keepReaderBuf = 64 << 10

// awaitInput waits while the input budget is spent, for the connection
// holds a partial message: until bytes are freed or the lease is free
// (its holder finished, or its time is over).
// The connection's timeouts still apply: a silent peer is pinged, then
// closed (1001) after IdleTimeout. It reports false when the connection
// was dropped, or must be, its Close not answered within CloseTimeout.
func (g *goConn) awaitInput() bool {
	e := g.e
	e.input.paused.Add(1)
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		freed := e.input.await()
		if !e.input.spent() || g.takeLease() {
			return true
		}
		next := g.nextTimeout()
		if end := e.input.leaseEnds(); end != 0 {
			next = min(next, end)
		}
		if !g.pause(freed, next, &t) {
			return false
		}
	}
}

// awaitQueue waits, not reading, while more than MaxQueuedBytes wait to
// be written (backpressure.go): until the writer brings the queue back
// within its limit, or the connection's timeouts close it (keepAlive:
// 1008 once the queue stayed full for half of WriteTimeout). It reports
// false when the connection was dropped, or must be.
func (g *goConn) awaitQueue() bool {
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		g.mu.Lock()
		if g.state&stFull == 0 {
			g.mu.Unlock()
			return true
		}
		if g.drained == nil {
			g.drained = make(chan struct{})
		}
		drained := g.drained
		next := g.fullUntilLocked()
		g.mu.Unlock()
		if !g.pause(drained, min(next, g.nextTimeout()), &t) {
			return false
		}
	}
}

// pause waits, not reading, until wake is closed or the engine clock
// reaches next, when it applies the connection's timeouts (keepAlive).
// It reports false when the connection was dropped, or must be. *t is the
// caller's timer, made on first use and stopped by the caller.
func (g *goConn) pause(wake <-chan struct{}, next int64, t **time.Timer) bool {
	wait := time.Duration(next - g.e.now())
	if *t == nil {
		*t = time.NewTimer(wait)
	} else {
		(*t).Reset(wait)
	}
	select {
	case <-wake:
		return true
	case <-g.stop:
		return false
	case <-(*t).C:
		return !g.keepAlive(g.e.now())
	}
}

// nextTimeout is when the reader must next apply the connection's
// timeouts (engine clock): the closing deadline while closing, otherwise
// the next ping or idle check. Only the reader calls it.
func (g *goConn) nextTimeout() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state&stCloseSent != 0 {
		return g.more.closeBy // set with stCloseSent
	}
	return g.nextCheckLocked()
}

// nextCheckLocked is when the connection's timeouts must next be applied
// while it is not closing: the next ping or idle check, or the alarm when
// it comes first. g.mu must be held.
func (g *goConn) nextCheckLocked() int64 {
	next := g.lastRead + int64(g.e.opts.PingInterval)
	if g.rflags&rPinged != 0 {
		next = g.lastRead + int64(g.e.opts.IdleTimeout)
	}
	if at := g.alarmLocked(); at != 0 {
		next = min(next, at)
	}
	return next
}

// armReadDeadline sets the read deadline for the next read: the closing
// timeout set by startCloseLocked while closing, otherwise the next ping
// or idle check, or the alarm.
func (g *goConn) armReadDeadline() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state&stCloseSent != 0 {
		return
	}
	g.armReadDeadlineLocked()
}

// armReadDeadlineLocked sets the read deadline to nextCheckLocked. Only
// the reader calls it; g.mu must be held, and the connection not
// closing.
func (g *goConn) armReadDeadlineLocked() {
	g.readBy = g.nextCheckLocked()
	g.nc.SetReadDeadline(g.e.clock(g.readBy))
}

// finish ends the connection after the read side stopped: when
// flushWrites is set it lets the writer send what is queued and our Close
// frame (bounded by WriteTimeout), then it drops the TCP connection and
// reports to the Handler.
func (g *goConn) finish(flushWrites bool) {
	if flushWrites {
		<-g.writerDone
	}
	g.abort(ErrClosed)
	<-g.writerDone
	g.dropContext()
	g.e.removeGoroutine(&g.Conn)
	g.mu.Lock()
	cause := g.causeLocked()
	g.mu.Unlock()
	g.h.OnClose(&g.Conn, cause)
}

// writeLoop sends what is queued until the connection ends or our Close
// frame has been sent.
func (g *goConn) writeLoop() {
	c := &g.Conn
	defer g.e.wg.Done()
	defer close(g.writerDone)
	var batch, chunk net.Buffers
	for {
		<-g.work
		for {
			c.mu.Lock()
			if c.state&stAborted != 0 {
				c.mu.Unlock()
				return
			}
			var closeFrame []byte
			batch = batch[:0]
			if q := c.out; q != nil {
				batch = append(batch, q.control...)
				batch = append(batch, q.data...)
				clear(q.control)
				clear(q.data)
				q.control, q.data = q.control[:0], q.data[:0]
				closeFrame, q.closeFrame = q.closeFrame, nil
			}
			c.mu.Unlock()
			if closeFrame != nil {
				batch = append(batch, closeFrame)
			}
			if len(batch) == 0 {
				break
			}
			data := dataBytes(batch)
			var err error
			chunk, err = g.writeBatch(batch, chunk)
			clear(batch)
			c.mu.Lock()
			c.dequeuedLocked(data)
			if err == nil && closeFrame != nil {
				c.closeWrittenLocked()
			}
			c.mu.Unlock()
			if err != nil {
				c.abort(err)
				return
			}
			if closeFrame != nil {
				return
			}
		}
	}
}

// writeChunk is the most one write system call is given, so that
// WriteTimeout measures a stalled peer, not a large batch.
const writeChunk = 256 << 10

// writeBatch writes every buffer of batch in chunks of at most writeChunk
// bytes, each with its own WriteTimeout. chunk is scratch space, returned
// for reuse.
func (g *goConn) writeBatch(batch, chunk net.Buffers) (net.Buffers, error) {
	for len(batch) > 0 {
		chunk = chunk[:0]
		n := 0
		for len(batch) > 0 && n < writeChunk {
			b := batch[0]
			if n+len(b) > writeChunk {
				k := writeChunk - n
				chunk = append(chunk, b[:k])
				batch[0] = b[k:]
				n += k
				break
			}
			chunk = append(chunk, b)
			n += len(b)
			batch = batch[1:]
		}
		g.nc.SetWriteDeadline(g.e.clock(g.e.now() + int64(g.e.opts.WriteTimeout)))
		bufs := chunk // WriteTo consumes its receiver
		if _, err := bufs.WriteTo(g.nc); err != nil {
			clear(chunk)
			return chunk, err
		}
		clear(chunk)
	}
	return chunk, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
