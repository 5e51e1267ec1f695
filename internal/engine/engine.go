package engine

import (
	"bufio"
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// Errors a Handler's OnClose may receive besides *ws.CloseError (the peer
// closed), *ws.ProtocolError (the peer broke RFC 6455) and network errors.
var (
	// ErrClosed is returned by writes on a connection that is closing or
	// closed, and passed to OnClose when the server closed it.
	ErrClosed = errors.New("engine: connection closed")
	// ErrSlowConsumer: the peer fell more than Options.MaxQueuedBytes behind.
	ErrSlowConsumer = errors.New("engine: slow consumer")
	// ErrIdleTimeout: the peer sent nothing for Options.IdleTimeout.
	ErrIdleTimeout = errors.New("engine: idle timeout")
	// ErrWriteTimeout: the peer accepted no byte for Options.WriteTimeout
	// while data waited for it (epoll; the goroutine engine reports the
	// write's deadline error).
	ErrWriteTimeout = errors.New("engine: write timeout")
	// ErrEngineClosed is returned by Serve after Shutdown or Close, and
	// passed to OnClose for connections Close dropped.
	ErrEngineClosed = errors.New("engine: closed")
)

// Handler receives the events of one connection. The engine calls its
// methods from one goroutine at a time and in order: OnOpen once, then
// OnMessage zero or more times, then OnClose once. The payload passed to
// OnMessage is valid only until OnMessage returns.
//
// Methods must not block. Under the epoll engine they run on an event
// loop shared by thousands of connections; under the goroutine engine a
// method that blocks stops its own connection's reads.
type Handler interface {
	OnOpen(c *Conn)
	OnMessage(c *Conn, op ws.Opcode, payload []byte)
	OnClose(c *Conn, err error)
}

// Engine runs connections after their opening handshake and keeps track
// of them so that Shutdown can close every one. It is safe for concurrent
// use.
type Engine struct {
	opts  Options
	epoch time.Time    // the engine clock counts nanoseconds from here
	n     atomic.Int64 // connections held
	bufs  sync.Pool    // *[]byte: scratch for deflating and inflating one message

	sentDeflated atomic.Uint64 // data frames written with RSV1 (compressed)
	sentPlain    atomic.Uint64 // data frames written uncompressed
	queuePaused  atomic.Uint64 // times a reader stopped for a full queue (backpressure.go)
	_            [64]byte      // keeps input, read on every read, off the line of the counters above, written on every write
	input        inputBudget   // Options.MaxBufferedInput (budget.go)

	mu     sync.Mutex // guards the fields below, and the loops' list
	gconns map[*Conn]struct{}
	closed bool
	done   chan struct{} // closed when the engine stops taking connections
	// farewell is the Close frame of the Shutdown that stopped the
	// engine, sent to a connection whose handshake was answered as the
	// engine stopped (refuse); nil when it did not stop or Close did.
	farewell []byte

	wg sync.WaitGroup // goroutine conns: one per goroutine; epoll conns: one each
	// ep is the event loops of Kind Epoll or Uring (epoll_linux.go);
	// nil when Kind is Goroutine. Set by New, then read-only.
	ep loopGroup
}

// loopGroup is the epoll engine's part of an Engine: the event loops that
// own its plaintext TCP connections. Its methods are safe for concurrent
// use and called without Engine.mu.
type loopGroup interface {
	// serve moves tc to a loop; see Engine.Serve.
	serve(tc *net.TCPConn, br *bufio.Reader, h Handler, pmd wsflate.Params) error
	// closeAll starts the closing handshake on every connection.
	closeAll(code ws.StatusCode, reason string)
	// abortAll drops every connection.
	abortAll()
	// stop ends the loops once every connection has ended.
	stop()
	// writes counts the write system calls made on the loops' sockets.
	writes() uint64
	// resume has every loop read again the connections it paused for
	// the input budget, now that bytes were freed.
	resume()
	// kindLocked is the loops' kind: Epoll once a Uring engine fell
	// back. Engine.mu must be held.
	kindLocked() Kind
}

// New returns an Engine whose connections follow opts. It panics when
// opts.Kind is not Supported on this system, but for Uring where Epoll is
// (see Options.Kind).
func New(opts Options) *Engine {
	if opts.Kind == Uring && !Uring.Supported() && Epoll.Supported() {
		opts.Kind = Epoll
		opts.withDefaults().Logger.Warn("engine: io_uring is not available here; using epoll")
	}
	if !opts.Kind.Supported() {
		panic("engine: kind " + opts.Kind.String() + " is not supported on this system")
	}
	e := &Engine{
		opts:   opts.withDefaults(),
		epoch:  time.Now(),
		gconns: make(map[*Conn]struct{}),
		done:   make(chan struct{}),
	}
	e.input.limit = e.opts.MaxBufferedInput
	if e.opts.Kind == Epoll || e.opts.Kind == Uring {
		e.ep = newLoops(e)
		e.input.wake = e.ep.resume
	}
	return e
}

// Kind is the engine's kind, Auto resolved: Epoll for a Uring engine
// whose loops fell back to epoll when the kernel refused their ring.
func (e *Engine) Kind() Kind {
	if e.ep == nil {
		return e.opts.Kind
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ep.kindLocked()
}

// Serve takes ownership of nc, a connection whose opening handshake is
// complete, and runs it with h. br holds any bytes the peer sent right
// after the handshake (nil when there are none); Serve consumes them.
// pmd holds the permessage-deflate parameters the handshake settled
// (Upgrade negotiates them with Options.Codec); its zero value, or
// an Engine without Options.Codec, means no compression: then a frame
// with RSV1 fails the connection with 1002.
//
// A pmd that grants server context takeover (wsflate.Codec.Negotiate in
// ModeContextTakeover, which reserved a context slot for it) gives the
// connection its own compressor (wsflate.Stream); the engine frees the
// slot when the connection ends, or at once when Serve fails.
//
// Serve returns at once. Under the epoll engine a *net.TCPConn moves to
// an event loop, which calls h from then on, and nc is closed (the loop
// owns a duplicate of its socket). Any other connection (TLS) runs on the
// goroutine engine, on two goroutines of its own: the caller's goroutine
// (net/http's, with its deep stack and its buffers) is not kept for the
// connection's life. br is read by the connection's goroutine after
// Serve returns. After Shutdown or Close, Serve closes nc and returns
// ErrEngineClosed without calling h.
func (e *Engine) Serve(nc net.Conn, br *bufio.Reader, h Handler, pmd wsflate.Params) error {
	if e.opts.Codec == nil {
		pmd = wsflate.Params{}
	}
	var err error
	if tc, ok := nc.(*net.TCPConn); ok && e.ep != nil {
		err = e.ep.serve(tc, br, h, pmd)
	} else {
		err = e.serveGoroutine(nc, br, h, pmd)
	}
	if err != nil && e.opts.Codec != nil {
		// The connection will not run: free the compression context slot
		// its handshake reserved, if any.
		e.opts.Codec.Release(pmd)
	}
	return err
}

// Stats are an Engine's counters of data frames written since New, and
// its input budget. Together with the Codec's Stats the frame counts show
// compress-once fan-out: one publication to N deflate subscribers is one
// compression and N compressed frames.
type Stats struct {
	FramesDeflated uint64 // text and binary frames sent compressed (RSV1 set)
	FramesPlain    uint64 // text and binary frames sent uncompressed
	// Writes counts the write and writev system calls made on epoll
	// and io_uring sockets, and the write requests io_uring loops put in
	// their rings; frames sent per write show how well writes are
	// batched. Always zero under the goroutine engine.
	Writes uint64
	// InputHeld is the input budget's level now, in bytes: what the
	// connections' decoders hold of partial messages plus what
	// ReserveInput charged and ReleaseInput has not given back
	// (Options.MaxBufferedInput).
	InputHeld int64
	// InputPaused counts the times a connection holding a partial
	// message was not read because the input budget was spent.
	InputPaused uint64
	// QueuePaused counts the times a connection was not read because
	// more than Options.MaxQueuedBytes waited to be written to it.
	QueuePaused uint64
}

// Stats returns the engine's counters, each read atomically.
func (e *Engine) Stats() Stats {
	s := Stats{
		FramesDeflated: e.sentDeflated.Load(), FramesPlain: e.sentPlain.Load(),
		InputHeld: e.input.held.Load(), InputPaused: e.input.paused.Load(),
		QueuePaused: e.queuePaused.Load(),
	}
	if e.ep != nil {
		s.Writes = e.ep.writes()
	}
	return s
}

// Len reports how many connections the engine holds, counting each from
// the moment Serve takes it (before OnOpen runs) until OnClose.
func (e *Engine) Len() int { return int(e.n.Load()) }

// now is the engine clock: nanoseconds since New, monotonic.
func (e *Engine) now() int64 { return int64(time.Since(e.epoch)) }

// clock turns an engine clock reading into a time.Time.
func (e *Engine) clock(t int64) time.Time { return e.epoch.Add(time.Duration(t)) }

func (e *Engine) readerOptions() ws.ReaderOptions {
	return ws.ReaderOptions{Role: ws.ServerSide, MaxMessageSize: e.opts.MaxMessageSize}
}

// maxPooledBuf is the largest scratch buffer, in bytes, kept for reuse;
// larger ones (a message of several hundred KB) are left to the GC.
const maxPooledBuf = 256 << 10

// getBuf returns an empty scratch buffer from the engine's pool.
func (e *Engine) getBuf() *[]byte {
	if bp, ok := e.bufs.Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 0, 4<<10)
	return &b
}

// putBuf returns a buffer taken with getBuf; the caller must not use
// its bytes any more.
func (e *Engine) putBuf(bp *[]byte) {
	if cap(*bp) > maxPooledBuf {
		return
	}
	*bp = (*bp)[:0]
	e.bufs.Put(bp)
}

func (e *Engine) removeGoroutine(c *Conn) {
	e.mu.Lock()
	delete(e.gconns, c)
	e.mu.Unlock()
	e.n.Add(-1)
}

// Shutdown stops accepting connections, sends every connection a Close
// frame with code (1001 going away, normally) and waits until all have
// ended. When ctx ends first, it drops the remaining connections, waits
// for them and returns ctx.Err().
func (e *Engine) Shutdown(ctx context.Context, code ws.StatusCode, reason string) error {
	gconns := e.stop(closeWire(code, reason))
	for _, c := range gconns {
		c.Close(code, reason)
	}
	if e.ep != nil {
		e.ep.closeAll(code, reason)
	}
	done := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		e.stopLoops()
		return nil
	case <-ctx.Done():
		e.Close()
		<-done
		return ctx.Err()
	}
}

// Close drops every connection at once, without a closing handshake, and
// waits until they have ended and the engine's goroutines have returned.
func (e *Engine) Close() {
	gconns := e.stop(nil)
	for _, c := range gconns {
		c.abort(ErrEngineClosed)
	}
	if e.ep != nil {
		e.ep.abortAll()
	}
	e.wg.Wait()
	e.stopLoops()
}

// stop marks the engine closed and returns the goroutine connections it
// holds. An epoll connection registered before stop is on its loop's task
// queue ahead of anything posted after it. farewell is the Close frame
// refuse sends from now on (nil: none).
func (e *Engine) stop(farewell []byte) []*Conn {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed {
		e.closed = true
		close(e.done)
	}
	e.farewell = farewell
	conns := make([]*Conn, 0, len(e.gconns))
	for c := range e.gconns {
		conns = append(conns, c)
	}
	return conns
}

// refuseWait bounds refuse's write of the farewell Close frame.
const refuseWait = time.Second

// refuse ends nc, whose handshake was answered, because the engine
// stopped before taking it. After a Shutdown the client gets that
// Shutdown's Close frame first, as the connections held get it, so it
// learns why (a drain's 1012 sends it to another node at once); after
// Close it is dropped. The write is best effort and does not wait for
// the client's Close.
func (e *Engine) refuse(nc net.Conn) {
	e.mu.Lock()
	farewell := e.farewell
	e.mu.Unlock()
	if farewell != nil {
		_ = nc.SetWriteDeadline(time.Now().Add(refuseWait))
		_, _ = nc.Write(farewell)
	}
	nc.Close()
}

// closeWire returns the Close frame a server sends with code and reason.
func closeWire(code ws.StatusCode, reason string) []byte {
	payload := ws.AppendClosePayload(make([]byte, 0, ws.MaxControlPayload), code, reason)
	return ws.AppendFrame(make([]byte, 0, 2+len(payload)), ws.OpClose, true, 0, payload)
}

// stopLoops ends the epoll loops once every connection has ended.
func (e *Engine) stopLoops() {
	if e.ep != nil {
		e.ep.stop()
	}
}
