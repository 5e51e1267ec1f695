package engine

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"sync"

	"github.com/wsgate/wsgate/internal/frame"
	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// connState is where a connection is in its life. Guarded by Conn.mu.
type connState uint8

const (
	stCloseSent connState = 1 << iota // our Close frame is queued or written: no more data
	stCloseDone                       // our Close frame is written whole
	stCloseRecv                       // the peer's Close frame arrived
	stHalfClose                       // we failed the connection: send FIN after our Close frame
	stAborted                         // the socket is being dropped: nobody writes to it any more
	stEnded                           // epoll: the socket is closed and OnClose has been called
	stBatch                           // epoll: the loop is handling the peer's input; writes wait for its flush
	stDeferred                        // epoll: c is on its loop's list of connections to flush (DeliverFrame)
)

// readFlags is the read side's bookkeeping; only the reader (the read
// goroutine or the epoll loop) touches it.
type readFlags uint8

const (
	rPinged readFlags = 1 << iota // a keep-alive ping went out since the peer last sent a byte
	rFailed                       // the peer broke the protocol: its input is discarded
	rDone                         // the peer's Close arrived: nothing more is read
)

// Conn is one WebSocket connection run by an Engine.
//
// Writes (WriteMessage, WriteFrame) and Close are safe for concurrent use
// from any goroutine, the Handler's methods included. Under the epoll
// engine a write goes to the socket at once, from the caller's goroutine,
// when nothing is waiting; what the socket does not take is queued and
// sent when the socket drains. While the loop is handling the peer's
// input (OnMessage, pongs, the answer to a Close), writes wait: frames
// of up to 4 KiB are copied back to back into the loop's batch buffer,
// larger ones are queued, and the loop sends them all when it has
// handled everything it read, with one write where it can. DeliverFrame leaves even the first attempt to the loop. Under
// the goroutine engine a writer
// goroutine sends what is queued, several frames per system call. Either
// way frames from one goroutine go out in the order they were written,
// and the queue is bounded by Options.MaxQueuedBytes. On a connection
// with compression context takeover, compressed frames are made and
// queued one writer at a time, so they go out in the order they were
// compressed (see ctxStream). Reads happen only on the engine's side and
// reach the Handler.
type Conn struct {
	h  Handler
	g  *goConn // goroutine engine: the net.Conn and its writer; nil under epoll
	l  *loop   // epoll: the loop that owns the socket; nil under the goroutine engine
	fd int32   // epoll: the socket, a duplicate owned by l
	// tag tells this connection's epoll events from those of an earlier
	// socket with the same number. Only the loop touches it.
	tag uint32

	mu      sync.Mutex // guards the fields up to rflags
	state   connState
	out     *outQueue // what waits to be written; nil under epoll when nothing waits
	queued  int       // bytes of data frames queued or in a writer's hands
	closeBy int64     // when stCloseSent: the engine clock by which the peer must answer
	stallAt int64     // epoll: when the socket last refused bytes while data waited; 0 when nothing waits
	cause   error     // why the connection is ending, for OnClose
	ctx     *connContext
	z       *ctxStream // context takeover: made on the first compressed write (stream.go)

	rflags   readFlags
	pmd      wsflate.Params // permessage-deflate as negotiated; zero: none. Set by Serve, then read-only
	lastRead int64          // engine clock: when the peer last sent a byte
	rd       *ws.Reader     // epoll: held only while a frame or fragmented message is partial

	addr netip.AddrPort // epoll: the peer's address
}

// connContext is made on the first call to Conn.Context, so connections
// that never ask for one do not pay for it.
type connContext struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// engine returns the Engine that runs c.
func (c *Conn) engine() *Engine {
	if c.l != nil {
		return c.l.e
	}
	return c.g.e
}

// Context is done once the connection has ended. Work done on behalf of
// the connection (a backend call) can use it to stop early.
func (c *Conn) Context() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		ctx, cancel := context.WithCancel(context.Background())
		c.ctx = &connContext{ctx: ctx, cancel: cancel}
		if c.state&stAborted != 0 {
			cancel()
		}
	}
	return c.ctx.ctx
}

// RemoteAddr is the peer's network address.
func (c *Conn) RemoteAddr() net.Addr {
	if c.g != nil {
		return c.g.nc.RemoteAddr()
	}
	return net.TCPAddrFromAddrPort(c.addr)
}

// WriteMessage sends payload as one message of type op (ws.OpText or
// ws.OpBinary). The caller may reuse payload once WriteMessage returns.
// On a connection that negotiated permessage-deflate a message of at
// least the Codec's threshold that shrinks goes out compressed (RSV1
// set); compression runs on the caller's goroutine, before the
// connection's lock is taken. It returns ErrClosed once the connection is
// closing, and ErrSlowConsumer (closing the connection with 1008) when
// the queue would go over Options.MaxQueuedBytes. A message larger than
// the limit is accepted when nothing is queued.
func (c *Conn) WriteMessage(op ws.Opcode, payload []byte) error {
	if c.deflating() && op.IsData() {
		if sent, err := c.writeDeflated(op, payload); sent {
			return err
		}
	}
	return c.writeData(op, 0, payload)
}

// writeData sends payload as one frame of type op with the RSV bits rsv.
// payload is copied when it must wait.
func (c *Conn) writeData(op ws.Opcode, rsv uint8, payload []byte) error {
	e := c.engine()
	c.mu.Lock()
	if c.state&(stCloseSent|stAborted) != 0 {
		c.mu.Unlock()
		return ErrClosed
	}
	e.countSent(rsv != 0)
	var hdr [ws.MaxHeaderSize]byte
	h := ws.AppendHeader(hdr[:0], ws.Header{Fin: true, Rsv: rsv, Opcode: op, Length: int64(len(payload))})
	err := c.sendDataLocked([][]byte{h, payload}, false)
	c.mu.Unlock()
	c.kick()
	return err
}

// sendDataLocked sends the data frame made of bufs: to the socket at once
// when nothing waits, into the loop's batch buffer while the loop handles
// c's input, or else to the queue. shared says bufs is one frame the
// queue may keep by reference; other bytes are copied when they must
// wait. The caller kicks the writer after releasing c.mu. c.mu must be
// held.
func (c *Conn) sendDataLocked(bufs [][]byte, shared bool) error {
	if c.sendsNowLocked() {
		c.sendNowLocked(bufs, kindData, shared)
		return nil
	}
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	if c.batchesLocked(n) {
		c.appendBatchLocked(bufs...)
		return nil
	}
	if shared && len(bufs) == 1 {
		return c.queueDataLocked(bufs[0])
	}
	wire := make([]byte, 0, n)
	for _, b := range bufs {
		wire = append(wire, b...)
	}
	return c.queueDataLocked(wire)
}

// WriteFrame sends a prepared frame. The frame is shared, not copied, so
// one publication can be queued on many connections at the cost of a
// pointer each. On a connection that negotiated permessage-deflate the
// frame's deflated twin (frame.Prepared.Deflated) is sent when it has
// one, so one compression serves every such connection; a connection
// with compression context takeover compresses the payload through its
// own context instead (stream.go). Errors are those of WriteMessage.
func (c *Conn) WriteFrame(f *frame.Prepared) error {
	if sent, err := c.writeFrameContext(f); sent {
		return err
	}
	wire := c.lockForFrame(f)
	if wire == nil {
		return ErrClosed
	}
	err := c.sendDataLocked([][]byte{wire}, true)
	c.mu.Unlock()
	c.kick()
	return err
}

// DeliverFrame sends a prepared frame like WriteFrame, but under epoll
// it leaves the system call to the connection's event loop: the frame is
// queued (a reference) and the loop writes it on its next turn, so a
// goroutine that hands one publication to thousands of connections pays
// a queue append for each, returns at once, and the loops write in
// parallel. Frames keep their order with every other write of the
// connection. Under the goroutine engine it is WriteFrame, whose writer
// goroutine already writes. Errors are those of WriteMessage.
func (c *Conn) DeliverFrame(f *frame.Prepared) error {
	if c.l == nil {
		return c.WriteFrame(f)
	}
	if sent, err := c.writeFrameContext(f); sent {
		return err
	}
	wire := c.lockForFrame(f)
	if wire == nil {
		return ErrClosed
	}
	if c.batchesLocked(len(wire)) {
		c.appendBatchLocked(wire)
		c.mu.Unlock()
		return nil
	}
	// Someone writes what is queued already: the loop's batch flush,
	// its pass over deferred connections, or the drain edge of a socket
	// that refused bytes. Otherwise this frame puts c on the loop's list.
	wake := c.state&(stBatch|stDeferred) == 0 && c.out == nil
	if wake {
		c.state |= stDeferred
	}
	err := c.queueDataLocked(wire)
	c.mu.Unlock()
	if wake {
		c.l.flushLater(c)
	}
	return err
}

// lockForFrame takes c.mu and returns the bytes of f to send on c (its
// deflated twin when c compresses and f has one), counting a data frame
// as sent. It returns nil, with c.mu released, when c is closing.
func (c *Conn) lockForFrame(f *frame.Prepared) []byte {
	wire, deflated := f.Wire(), false
	if c.deflating() && !c.keepsContext() {
		if z := f.Deflated(c.pmd.ServerWindow()); z != nil {
			wire, deflated = z, true
		}
	}
	c.mu.Lock()
	if c.state&(stCloseSent|stAborted) != 0 {
		c.mu.Unlock()
		return nil
	}
	if f.Opcode().IsData() {
		c.engine().countSent(deflated)
	}
	return wire
}

// sendsNowLocked reports whether a write goes to the socket at once:
// under epoll, when nothing waits and the loop is not handling the
// peer's input (then writes join the batch it flushes). c.mu must be
// held.
func (c *Conn) sendsNowLocked() bool {
	return c.l != nil && c.out == nil && c.state&stBatch == 0
}

// queueDataLocked queues wire behind what waits, or applies the slow
// consumer policy. Bytes batched during a read, or deferred to the loop,
// count against the limit only once the socket refused them: a batch
// about to pass it is flushed first. c.mu must be held.
func (c *Conn) queueDataLocked(wire []byte) error {
	limit := c.engine().opts.MaxQueuedBytes
	if c.state&(stBatch|stDeferred) != 0 && c.queued > 0 && c.queued+len(wire) > limit {
		c.flushBatchLocked(nil, c.engine().now())
	}
	if c.queued > 0 && c.queued+len(wire) > limit {
		// The peer is not keeping up. What is queued would only grow, so
		// drop it and close; a client resumes from its last seq.
		if c.out != nil {
			c.queued -= c.out.dropData()
		}
		c.setCauseLocked(ErrSlowConsumer)
		c.startCloseLocked(ws.StatusPolicyViolation, "slow consumer")
		return ErrSlowConsumer
	}
	q := c.queueLocked()
	q.data = append(q.data, wire)
	c.queued += len(wire)
	return nil
}

// queueLocked returns c.out, making it when nothing waits. c.mu must be
// held.
func (c *Conn) queueLocked() *outQueue {
	if c.out == nil {
		c.out = &outQueue{}
	}
	return c.out
}

// sendControl sends a ping or pong ahead of queued data. Control frames
// are at most 127 bytes and not counted against the queue limit.
func (c *Conn) sendControl(op ws.Opcode, payload []byte) {
	c.mu.Lock()
	if c.state&(stCloseSent|stAborted) != 0 {
		c.mu.Unlock()
		return
	}
	var buf [2 + ws.MaxControlPayload]byte
	wire := ws.AppendFrame(buf[:0], op, true, 0, payload)
	switch {
	case c.sendsNowLocked():
		c.sendNowLocked([][]byte{wire}, kindControl, false)
	case c.batchesLocked(len(wire)):
		c.appendBatchLocked(wire)
	default:
		q := c.queueLocked()
		q.control = append(q.control, bytes.Clone(wire))
	}
	c.mu.Unlock()
	c.kick()
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
	c.kick()
}

// startCloseLocked sends or queues our Close frame behind what is queued
// and starts the closing timeout. c.mu must be held.
func (c *Conn) startCloseLocked(code ws.StatusCode, reason string) {
	if c.state&(stCloseSent|stAborted) != 0 {
		return
	}
	c.state |= stCloseSent
	e := c.engine()
	payload := ws.AppendClosePayload(make([]byte, 0, ws.MaxControlPayload), code, reason)
	wire := ws.AppendFrame(make([]byte, 0, 2+len(payload)), ws.OpClose, true, 0, payload)
	c.closeBy = e.now() + int64(e.opts.CloseTimeout)
	if c.g != nil {
		c.queueLocked().closeFrame = wire
		c.g.nc.SetReadDeadline(e.clock(c.closeBy))
		return
	}
	if c.sendsNowLocked() {
		c.sendNowLocked([][]byte{wire}, kindClose, true)
		return
	}
	c.queueLocked().closeFrame = wire
}

// closeWrittenLocked records that our Close frame is out and, when we
// failed the connection, sends FIN so the peer ends the TCP connection.
// c.mu must be held.
func (c *Conn) closeWrittenLocked() {
	c.state |= stCloseDone
	if c.state&stHalfClose == 0 {
		return
	}
	if c.g != nil {
		if cw, ok := c.g.nc.(interface{ CloseWrite() error }); ok {
			// The peer answers FIN with FIN, so the read side, which
			// discards the rest of a failed stream, sees EOF.
			cw.CloseWrite()
		}
		return
	}
	c.shutdownWriteLocked()
}

// setCauseLocked records why the connection ends, keeping the first
// reason. c.mu must be held.
func (c *Conn) setCauseLocked(err error) {
	if c.cause == nil {
		c.cause = err
	}
}

// kick tells the goroutine engine's writer there is work. Under epoll
// writes need no kick: what waits is sent when the socket drains.
func (c *Conn) kick() {
	if c.g != nil {
		c.g.signal()
	}
}

// abort drops the TCP connection at once. Safe to call many times and
// from any goroutine.
func (c *Conn) abort(err error) {
	c.mu.Lock()
	c.abortLocked(err)
	c.mu.Unlock()
	if c.g != nil {
		c.g.closeOnce.Do(func() { c.g.nc.Close() })
		c.g.signal()
	}
}

// abortLocked marks c dropped: writes fail from now on, Context is done,
// and the epoll loop is asked to close the socket. c.mu must be held.
func (c *Conn) abortLocked(err error) {
	if c.markAbortedLocked(err) && c.l != nil {
		c.l.post(task{kind: taskSettle, c: c})
	}
}

// markAbortedLocked is abortLocked without asking the loop; it reports
// whether c was not aborted before. c.mu must be held.
func (c *Conn) markAbortedLocked(err error) bool {
	c.setCauseLocked(err)
	if c.state&stAborted != 0 {
		return false
	}
	c.state |= stAborted
	if c.ctx != nil {
		c.ctx.cancel()
	}
	return true
}

// aborted reports whether c is being dropped.
func (c *Conn) aborted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state&stAborted != 0
}

// closing reports whether our Close frame is queued or sent.
func (c *Conn) closing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state&stCloseSent != 0
}
