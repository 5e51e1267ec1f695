package engine

import (
	"bufio"
	"errors"
	"net"
	"os"
	"sync"

	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// This file holds the goroutine engine: one goroutine reads a connection
// and one writes it. It runs on every system and serves TLS.

// goConn is what the goroutine engine adds to a Conn.
type goConn struct {
	e  *Engine
	nc net.Conn
	br *bufio.Reader // bytes sent right after the handshake; nil once consumed

	wake       chan struct{} // a token tells the writer there is work
	writerDone chan struct{} // closed when the writer goroutine returns
	closeOnce  sync.Once     // closes nc
}

func (g *goConn) signal() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// serveGoroutine starts nc's two goroutines, one reading and one
// writing, and returns. They start with small stacks: run on the
// caller's goroutine, the reader would sit under net/http's frames and
// keep about 7 KB more per connection (its stack, doubled by the deepest
// message handling, could not shrink back; measured with
// WSGATE_MEASURE=1, TestMeasureDeflate).
func (e *Engine) serveGoroutine(nc net.Conn, br *bufio.Reader, h Handler, pmd wsflate.Params) error {
	c := &Conn{h: h, pmd: pmd, g: &goConn{
		e: e, nc: nc, br: br,
		wake:       make(chan struct{}, 1),
		writerDone: make(chan struct{}),
	}}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		nc.Close()
		return ErrEngineClosed
	}
	e.gconns[c] = struct{}{}
	e.n.Add(1)
	e.wg.Add(2)
	e.mu.Unlock()

	go c.writeLoop()
	go c.readLoop()
	return nil
}

// readLoop runs the connection's read side on its own goroutine: it
// decodes frames, answers pings and Close frames, delivers messages, keeps
// the connection alive with pings and ends it when the peer goes quiet.
func (c *Conn) readLoop() {
	e, g := c.g.e, c.g
	defer e.wg.Done()
	c.lastRead = e.now()
	c.h.OnOpen(c)

	r := ws.NewReader(c.readerOptions())
	if g.br != nil && g.br.Buffered() > 0 {
		early, _ := g.br.Peek(g.br.Buffered())
		c.consume(r, early)
	}
	g.br = nil

	buf := make([]byte, e.opts.ReadBufferSize)
	for c.rflags&rDone == 0 {
		c.armReadDeadline()
		n, err := g.nc.Read(buf)
		if n > 0 {
			c.onRead(e.now())
			c.consume(r, buf[:n])
		}
		if err != nil && c.rflags&rDone == 0 {
			if isTimeout(err) && !c.keepAlive(e.now()) {
				continue
			}
			c.abort(err)
			break
		}
	}
	// After the peer's Close, let the writer send our answer; otherwise
	// (an error, or no answer to our Close in time) there is no one to
	// wait for.
	c.finish(c.rflags&rDone != 0)
}

// armReadDeadline sets the read deadline for the next read: the closing
// timeout set by startCloseLocked while closing, otherwise the next ping
// or idle check.
func (c *Conn) armReadDeadline() {
	e := c.g.e
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state&stCloseSent != 0 {
		return
	}
	next := c.lastRead + int64(e.opts.PingInterval)
	if c.rflags&rPinged != 0 {
		next = c.lastRead + int64(e.opts.IdleTimeout)
	}
	c.g.nc.SetReadDeadline(e.clock(next))
}

// finish ends the connection after the read side stopped: when
// flushWrites is set it lets the writer send what is queued and our Close
// frame (bounded by WriteTimeout), then it drops the TCP connection and
// reports to the Handler.
func (c *Conn) finish(flushWrites bool) {
	if flushWrites {
		<-c.g.writerDone
	}
	c.abort(ErrClosed)
	<-c.g.writerDone
	c.dropContext()
	c.g.e.removeGoroutine(c)
	c.mu.Lock()
	cause := c.cause
	c.mu.Unlock()
	c.h.OnClose(c, cause)
}

// writeLoop sends what is queued until the connection ends or our Close
// frame has been sent.
func (c *Conn) writeLoop() {
	g := c.g
	defer g.e.wg.Done()
	defer close(g.writerDone)
	var batch, chunk net.Buffers
	for {
		<-g.wake
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
			chunk, err = c.writeBatch(batch, chunk)
			clear(batch)
			c.mu.Lock()
			c.queued -= data
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
func (c *Conn) writeBatch(batch, chunk net.Buffers) (net.Buffers, error) {
	g := c.g
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
