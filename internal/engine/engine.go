package engine

import (
	"bufio"
	"context"
	"errors"
	"net"
	"sync"

	"github.com/wsgate/wsgate/ws"
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
	// ErrEngineClosed is returned by Serve after Shutdown or Close.
	ErrEngineClosed = errors.New("engine: closed")
)

// Handler receives the events of one connection. The engine calls its
// methods from one goroutine at a time and in order: OnOpen once, then
// OnMessage zero or more times, then OnClose once. The payload passed to
// OnMessage is valid only until OnMessage returns. While a method runs the
// connection is not read, so a method that blocks applies backpressure to
// its own peer; it must not block for long.
type Handler interface {
	OnOpen(c *Conn)
	OnMessage(c *Conn, op ws.Opcode, payload []byte)
	OnClose(c *Conn, err error)
}

// Engine runs connections after their opening handshake and keeps track
// of them so that Shutdown can close every one. It is safe for concurrent
// use.
type Engine struct {
	opts Options

	mu     sync.Mutex // guards conns and closed
	conns  map[*Conn]struct{}
	closed bool

	wg sync.WaitGroup // one per goroutine the engine runs
}

// New returns an Engine whose connections follow opts.
func New(opts Options) *Engine {
	return &Engine{opts: opts.withDefaults(), conns: make(map[*Conn]struct{})}
}

// Serve takes ownership of nc, a connection whose opening handshake is
// complete, and runs it with h until it ends. br holds any bytes the peer
// sent right after the handshake (nil when there are none). Serve returns
// when the connection has ended and OnClose has returned, or at once with
// ErrEngineClosed (closing nc) after Shutdown or Close.
func (e *Engine) Serve(nc net.Conn, br *bufio.Reader, h Handler) error {
	c := newConn(e, nc, br, h)
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		nc.Close()
		return ErrEngineClosed
	}
	e.conns[c] = struct{}{}
	e.wg.Add(2)
	e.mu.Unlock()

	go c.writeLoop()
	c.readLoop()
	return nil
}

// Len reports how many connections the engine holds.
func (e *Engine) Len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.conns)
}

func (e *Engine) remove(c *Conn) {
	e.mu.Lock()
	delete(e.conns, c)
	e.mu.Unlock()
}

// Shutdown stops accepting connections, sends every connection a Close
// frame with code (1001 going away, normally) and waits until all have
// ended. When ctx ends first, it drops the remaining connections, waits
// for their goroutines and returns ctx.Err().
func (e *Engine) Shutdown(ctx context.Context, code ws.StatusCode, reason string) error {
	for _, c := range e.stop() {
		c.Close(code, reason)
	}
	done := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		e.Close()
		<-done
		return ctx.Err()
	}
}

// Close drops every connection at once, without a closing handshake, and
// waits for the engine's goroutines to end.
func (e *Engine) Close() {
	for _, c := range e.stop() {
		c.abort(ErrEngineClosed)
	}
	e.wg.Wait()
}

// stop marks the engine closed and returns the connections it holds.
func (e *Engine) stop() []*Conn {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	conns := make([]*Conn, 0, len(e.conns))
	for c := range e.conns {
		conns = append(conns, c)
	}
	return conns
}
