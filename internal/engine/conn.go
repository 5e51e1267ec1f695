package engine

import (
	"context"
	"net"
	"sync"

	"github.com/wsgate/wsgate/internal/frame"
	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// connState is where a connection is in its life. Guarded by Conn.mu.
type connState uint16

const (
	stCloseSent connState = 1 << iota // our Close frame is queued or written: no more data
	stCloseDone                       // our Close frame is written whole
	stCloseRecv                       // the peer's Close frame arrived
	stHalfClose                       // we failed the connection: send FIN after our Close frame
	stAborted                         // the socket is being dropped: nobody writes to it any more
	stEnded                           // epoll: the socket is closed and OnClose has been called
	stBatch                           // epoll: the loop is handling the peer's input; writes wait for its flush
	stDeferred                        // epoll: c is on its loop's list of connections to flush (WriteFrame)
	stFull                            // the reader stopped reading: the queue is over MaxQueuedBytes (backpressure.go)
	stFlight                          // uring: a write from the queue is in the loop's ring; nobody else writes the socket (uring_write_linux.go)
)

// readFlags is the read side's bookkeeping; only the reader (the read
// goroutine or the epoll loop) touches it.
type readFlags uint8

const (
	rPinged readFlags = 1 << iota // a keep-alive ping went out since the peer last sent a byte
	rFailed                       // the peer broke the protocol: its input is discarded
	rDone                         // the peer's Close arrived: nothing more is read
	rLease                        // c took the input budget's lease and may still hold it (budget.go)
	rPaused                       // epoll: c is on its loop's list of connections paused for the input budget
)

// Conn is one WebSocket connection run by an Engine.
//
// Writes (WriteMessage, WriteFrame, WriteParts) and Close are safe for
// concurrent use from any goroutine, the Handler's methods included.
// Under the epoll engine WriteMessage and WriteParts go to the socket at
// once, from the caller's goroutine, when nothing is waiting; what the
// socket does not take is queued and sent when the socket drains.
// WriteFrame leaves even the first attempt to the connection's loop, so
// that handing one prepared frame to thousands of connections costs a
// queue append each. While the loop is handling the peer's input
// (OnMessage, pongs, the answer to a Close), writes wait: frames of up to
// 4 KiB are copied back to back into the loop's batch buffer, larger ones
// are queued, and the loop sends them all when it has handled everything
// it read, with one write where it can. Under the goroutine engine a
// writer goroutine sends what is queued, several frames per system call.
// Either way frames from one goroutine go out in the order they were
// written, and the queue is bounded by twice Options.MaxQueuedBytes
// (backpressure.go). On a
// connection with compression context takeover, compressed frames are
// made and queued one writer at a time, so they go out in the order they
// were compressed (see ctxStream). Reads happen only on the engine's side
// and reach the Handler.
//
// A Conn holds the state both engines share; what differs is its
// transport (transport.go), the goConn or epollConn that embeds it.
type Conn struct {
	h  Handler
	tr transport // the engine's part: the goConn or epollConn holding this Conn

	mu     sync.Mutex // guards state and the fields from out to more
	state  connState
	rflags readFlags      // only the reader (read goroutine or epoll loop) touches it
	pmd    wsflate.Params // permessage-deflate as negotiated; zero: none. Set by Serve, then read-only

	out    *outQueue // what waits to be written; nil under epoll when nothing waits
	queued int       // bytes of data frames queued or in a writer's hands
	more   *connMore // what few connections use, or use only as they end; nil until then

	lastRead int64 // engine clock: when the peer last sent a byte; only the reader touches it
	// inputHeld is what the decoder holds of a partial message, in bytes,
	// as charged to the Engine's input budget; only the reader touches it.
	inputHeld int64
}

// connMore holds what a connection needs only for some features, or only
// as it ends: made on first use (Conn.moreLocked), so that an idle
// connection does not pay for it. Guarded by Conn.mu, like the pointer.
type connMore struct {
	ctx    context.Context // made by the first call to Conn.Context
	cancel context.CancelFunc
	z      *ctxStream // context takeover: made on the first compressed write (stream.go)
	alarm  int64      // engine clock: when OnAlarm is due (alarm.go); 0: never
	cause  error      // why the connection is ending, for OnClose
	// fullAt is, when stFull, the engine clock when the reader stopped
	// reading; closeBy, when stCloseSent, the engine clock by which the
	// peer must answer our Close.
	fullAt, closeBy int64
}

// moreLocked returns c.more, made if need be. c.mu must be held.
func (c *Conn) moreLocked() *connMore {
	if c.more == nil {
		c.more = new(connMore)
	}
	return c.more
}

// alarmLocked is when OnAlarm is due (engine clock); 0: never. c.mu must
// be held.
func (c *Conn) alarmLocked() int64 {
	if c.more == nil {
		return 0
	}
	return c.more.alarm
}

// causeLocked is why the connection ends, once known. c.mu must be held.
func (c *Conn) causeLocked() error {
	if c.more == nil {
		return nil
	}
	return c.more.cause
}

// engine returns the Engine that runs c.
func (c *Conn) engine() *Engine { return c.tr.servedBy() }

// Context is done once the connection has ended. Work done on behalf of
// the connection (a backend call) can use it to stop early.
func (c *Conn) Context() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.moreLocked()
	if m.ctx == nil {
		m.ctx, m.cancel = context.WithCancel(context.Background())
		if c.state&stAborted != 0 {
			m.cancel()
		}
	}
	return m.ctx
}

// RemoteAddr is the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.tr.peerAddr() }

// WriteMessage sends payload as one message of type op (ws.OpText or
// ws.OpBinary). The caller may reuse payload once WriteMessage returns.
// On a connection that negotiated permessage-deflate a message of at
// least the Codec's threshold that shrinks goes out compressed (RSV1
// set); compression runs on the caller's goroutine, before the
// connection's lock is taken. It returns ErrClosed once the connection is
// closing, and ErrSlowConsumer (closing the connection with 1008) when
// the queue would reach twice Options.MaxQueuedBytes. A message larger
// than that is accepted when nothing is queued.
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

// sendDataLocked sends the data frame made of bufs: through the
// transport when it can send it at once (epoll: to the socket when
// nothing waits, into the loop's batch buffer while the loop handles c's
// input), or else to the queue. shared says bufs is one frame the queue
// may keep by reference; other bytes are copied when they must wait. The
// caller kicks the writer after releasing c.mu. c.mu must be held.
func (c *Conn) sendDataLocked(bufs [][]byte, shared bool) error {
	var f frameBufs
	for i, b := range bufs { // not copy: a typed copy pays GC write barriers
		f.b[i] = b
	}
	f.n = len(bufs)
	if c.tr.sendLocked(f, kindData, shared) {
		return nil
	}
	if shared && len(bufs) == 1 {
		return c.queueDataLocked(bufs[0])
	}
	wire := make([]byte, 0, f.size())
	for _, b := range bufs {
		wire = append(wire, b...)
	}
	return c.queueDataLocked(wire)
}

// WriteFrame sends a prepared frame. The frame is shared, not copied, so
// one publication can be queued on many connections at the cost of a
// pointer each, and the caller makes no system call: under the goroutine
// engine the connection's writer goroutine sends it; under epoll its
// event loop writes it on its next turn (or with the replies it is
// batching, when the caller is the Handler), so a goroutine that hands
// one publication to thousands of connections returns at once and the
// loops write in parallel. The frame keeps its order with every other
// write of the connection. On a connection that negotiated
// permessage-deflate the frame's deflated twin (frame.Prepared.Deflated)
// is sent when it has one, so one compression serves every such
// connection; a connection with compression context takeover compresses
// the payload through its own context instead, and sends the result like
// WriteMessage (stream.go). Errors are those of WriteMessage.
func (c *Conn) WriteFrame(f *frame.Prepared) error {
	if sent, err := c.writeFrameContext(f); sent {
		return err
	}
	wire := c.lockForFrame(f)
	if wire == nil {
		return ErrClosed
	}
	err := c.tr.passLocked(wire)
	c.mu.Unlock()
	c.kick()
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

// queueDataLocked queues wire behind what waits, or applies the slow
// consumer policy (backpressure.go): a queue that would pass twice
// MaxQueuedBytes is dropped and the connection closed at once. Bytes the
// transport holds back (epoll: batched during a read, or left to the
// loop's turn) count against the limit only once the socket refused
// them: they are flushed before the queue would pass it. c.mu must be
// held.
func (c *Conn) queueDataLocked(wire []byte) error {
	limit := c.engine().opts.MaxQueuedBytes
	if c.queued > 0 && c.queued+len(wire) > limit {
		c.tr.flushHeldLocked()
	}
	if c.queued > 0 && c.queued+len(wire) > 2*limit {
		c.slowConsumerLocked()
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
// are at most 127 bytes and not counted against the queue limit: at most
// 4 KiB of them wait (queueControl), so a peer that sends pings without
// reading cannot grow the queue.
func (c *Conn) sendControl(op ws.Opcode, payload []byte) {
	c.mu.Lock()
	if c.state&(stCloseSent|stAborted) != 0 {
		c.mu.Unlock()
		return
	}
	var buf [2 + ws.MaxControlPayload]byte
	wire := ws.AppendFrame(buf[:0], op, true, 0, payload)
	if !c.tr.sendLocked(oneBuf(wire), kindControl, false) {
		c.queueLocked().queueControl(op, wire)
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
	c.resumeReadingLocked() // the peer's Close must be read
	e := c.engine()
	wire := closeWire(code, reason)
	c.moreLocked().closeBy = e.now() + int64(e.opts.CloseTimeout)
	if !c.tr.sendLocked(oneBuf(wire), kindClose, true) {
		c.queueLocked().closeFrame = wire
	}
	c.tr.closeStartedLocked()
}

// closeWrittenLocked records that our Close frame is out and, when we
// failed the connection, sends FIN so the peer ends the TCP connection.
// c.mu must be held.
func (c *Conn) closeWrittenLocked() {
	c.state |= stCloseDone
	if c.state&stHalfClose != 0 {
		// The peer answers FIN with FIN, so the read side, which
		// discards the rest of a failed stream, sees EOF.
		c.tr.finLocked()
	}
}

// setCauseLocked records why the connection ends, keeping the first
// reason. c.mu must be held.
func (c *Conn) setCauseLocked(err error) {
	if m := c.moreLocked(); m.cause == nil {
		m.cause = err
	}
}

// kick tells the goroutine engine's writer there is work. Under epoll
// writes need no kick: what waits is sent when the socket drains, or on
// the loop's turn.
func (c *Conn) kick() { c.tr.signal() }

// abort drops the TCP connection at once. Safe to call many times and
// from any goroutine.
func (c *Conn) abort(err error) {
	c.mu.Lock()
	c.abortLocked(err)
	c.mu.Unlock()
	c.tr.dropped()
}

// abortLocked marks c dropped: writes fail from now on, Context is done,
// and the transport is told (the epoll loop is asked to close the
// socket). c.mu must be held.
func (c *Conn) abortLocked(err error) {
	if c.markAbortedLocked(err) {
		c.tr.abortedLocked()
	}
}

// markAbortedLocked is abortLocked without telling the transport; it
// reports whether c was not aborted before. c.mu must be held.
func (c *Conn) markAbortedLocked(err error) bool {
	c.setCauseLocked(err)
	if c.state&stAborted != 0 {
		return false
	}
	c.state |= stAborted
	if c.more != nil && c.more.cancel != nil {
		c.more.cancel()
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
