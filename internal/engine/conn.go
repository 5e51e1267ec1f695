package engine

import (
	"bufio"
	"context"
	"net"
	"sync"
	"time"

	"github.com/wsgate/wsgate/internal/frame"
	"github.com/wsgate/wsgate/ws"
)

// Conn is one WebSocket connection run by an Engine.
//
// Writes (WriteMessage, WriteFrame) and Close are safe for concurrent use
// from any goroutine: they append to the connection's bounded queue and a
// writer goroutine sends what is queued, several frames per system call.
// Frames from one goroutine go out in the order they were written. Reads
// happen only on the engine's side and reach the Handler.
type Conn struct {
	e  *Engine
	nc net.Conn
	br *bufio.Reader // bytes sent right after the handshake; nil once consumed
	h  Handler

	ctx    context.Context // done when the connection has ended
	cancel context.CancelFunc

	wake       chan struct{} // a token tells the writer there is work
	writerDone chan struct{} // closed when the writer goroutine returns
	closeOnce  sync.Once     // closes nc

	mu         sync.Mutex // guards the fields below
	control    [][]byte   // pongs and pings, sent before data
	queue      [][]byte   // data frames, in order
	queued     int        // bytes of data in queue and in the writer's hands
	closeFrame []byte     // our Close frame, sent after queue; nil when none is pending
	closeSent  bool       // a Close frame is queued or sent: no more data
	closeRecv  bool       // the peer's Close frame arrived
	aborted    bool       // nc is closed or closing
	halfClose  bool       // send FIN after our Close frame (we failed the connection)
	cause      error      // why the connection is ending, for OnClose
}

func newConn(e *Engine, nc net.Conn, br *bufio.Reader, h Handler) *Conn {
	ctx, cancel := context.WithCancel(context.Background())
	return &Conn{
		e: e, nc: nc, br: br, h: h,
		ctx: ctx, cancel: cancel,
		wake:       make(chan struct{}, 1),
		writerDone: make(chan struct{}),
	}
}

// Context is done once the connection has ended. Work done on behalf of
// the connection (a backend call) can use it to stop early.
func (c *Conn) Context() context.Context { return c.ctx }

// RemoteAddr is the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// WriteMessage queues payload as one message of type op (ws.OpText or
// ws.OpBinary). The payload is copied; the caller may reuse it. It
// returns ErrClosed once the connection is closing, and ErrSlowConsumer
// (closing the connection with 1008) when the queue would go over
// Options.MaxQueuedBytes. A message larger than the limit is accepted
// when the queue is empty.
func (c *Conn) WriteMessage(op ws.Opcode, payload []byte) error {
	b := make([]byte, 0, ws.MaxHeaderSize+len(payload))
	return c.enqueue(ws.AppendFrame(b, op, true, 0, payload))
}

// WriteFrame queues a prepared frame. The frame is shared, not copied, so
// one publication can be queued on many connections at the cost of a
// pointer each. Errors are those of WriteMessage.
func (c *Conn) WriteFrame(f *frame.Prepared) error {
	return c.enqueue(f.Wire())
}

func (c *Conn) enqueue(wire []byte) error {
	c.mu.Lock()
	if c.closeSent || c.aborted {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.queued > 0 && c.queued+len(wire) > c.e.opts.MaxQueuedBytes {
		// The peer is not keeping up. What is queued would only grow, so
		// drop it and close; a client resumes from its last seq.
		for _, b := range c.queue {
			c.queued -= len(b)
		}
		c.queue = nil
		c.setCauseLocked(ErrSlowConsumer)
		c.startCloseLocked(ws.StatusPolicyViolation, "slow consumer")
		c.mu.Unlock()
		c.signal()
		return ErrSlowConsumer
	}
	c.queue = append(c.queue, wire)
	c.queued += len(wire)
	c.mu.Unlock()
	c.signal()
	return nil
}

// enqueueControl queues a ping or pong ahead of data. Control frames are
// at most 127 bytes and not counted against the queue limit.
func (c *Conn) enqueueControl(op ws.Opcode, payload []byte) {
	wire := ws.AppendFrame(make([]byte, 0, 2+len(payload)), op, true, 0, payload)
	c.mu.Lock()
	if c.closeSent || c.aborted {
		c.mu.Unlock()
		return
	}
	c.control = append(c.control, wire)
	c.mu.Unlock()
	c.signal()
}

// Close starts the closing handshake with code and reason: what is
// queued is sent, then a Close frame, and the connection ends when the
// peer answers or Options.CloseTimeout passes. Close returns at once and
// may be called any number of times; only the first call counts.
func (c *Conn) Close(code ws.StatusCode, reason string) {
	c.mu.Lock()
	c.setCauseLocked(ErrClosed)
	c.startCloseLocked(code, reason)
	c.mu.Unlock()
	c.signal()
}

// startCloseLocked queues our Close frame and shortens the read deadline
// to the closing timeout. c.mu must be held.
func (c *Conn) startCloseLocked(code ws.StatusCode, reason string) {
	if c.closeSent || c.aborted {
		return
	}
	c.closeSent = true
	payload := ws.AppendClosePayload(make([]byte, 0, ws.MaxControlPayload), code, reason)
	c.closeFrame = ws.AppendFrame(make([]byte, 0, 2+len(payload)), ws.OpClose, true, 0, payload)
	c.nc.SetReadDeadline(time.Now().Add(c.e.opts.CloseTimeout))
}

// setCauseLocked records why the connection ends, keeping the first
// reason. c.mu must be held.
func (c *Conn) setCauseLocked(err error) {
	if c.cause == nil {
		c.cause = err
	}
}

func (c *Conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// abort drops the TCP connection at once. Safe to call many times.
func (c *Conn) abort(err error) {
	c.mu.Lock()
	c.setCauseLocked(err)
	c.aborted = true
	c.mu.Unlock()
	c.closeOnce.Do(func() {
		c.nc.Close()
		c.cancel()
	})
	c.signal()
}

// writeLoop sends what is queued until the connection ends or our Close
// frame has been sent.
func (c *Conn) writeLoop() {
	defer c.e.wg.Done()
	defer close(c.writerDone)
	var batch, chunk net.Buffers
	for {
		<-c.wake
		for {
			c.mu.Lock()
			if c.aborted {
				c.mu.Unlock()
				return
			}
			batch = append(batch[:0], c.control...)
			batch = append(batch, c.queue...)
			c.control = c.control[:0]
			c.queue = c.queue[:0]
			closeFrame := c.closeFrame
			c.closeFrame = nil
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
			c.mu.Unlock()
			if err != nil {
				c.abort(err)
				return
			}
			if closeFrame != nil {
				c.mu.Lock()
				halfClose := c.halfClose
				c.mu.Unlock()
				if cw, ok := c.nc.(interface{ CloseWrite() error }); ok && halfClose {
					// The peer answers FIN with FIN, so the read side,
					// which discards the rest of a failed stream, sees EOF.
					cw.CloseWrite()
				}
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
		c.nc.SetWriteDeadline(time.Now().Add(c.e.opts.WriteTimeout))
		bufs := chunk // WriteTo consumes its receiver
		if _, err := bufs.WriteTo(c.nc); err != nil {
			clear(chunk)
			return chunk, err
		}
		clear(chunk)
	}
	return chunk, nil
}

// dataBytes counts the bytes of a batch's data frames; control frames
// (pings, pongs, Close) are not counted against the queue limit.
func dataBytes(batch net.Buffers) int {
	n := 0
	for _, b := range batch {
		if len(b) > 0 && ws.Opcode(b[0]&0x0F).IsControl() {
			continue
		}
		n += len(b)
	}
	return n
}
