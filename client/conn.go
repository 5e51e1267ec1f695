package client

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// closeWait bounds how long a connection that is being closed on
// purpose may take to write its last frames.
const closeWait = 2 * time.Second

// conn is one WebSocket connection to a node. It runs two goroutines,
// started by newConn: the reader, which decodes frames, answers pings
// and hands each text message to onMessage, and the writer, the only
// code that writes to the socket, which sends the queued frames in
// batches. Both end once the connection stops (stop, or an I/O or
// protocol error); lost is closed at that moment and wg waits for them.
// Its methods are safe for concurrent use.
type conn struct {
	node      string
	nc        net.Conn
	br        *bufio.Reader
	silence   time.Duration // reads and writes idle this long fail
	maxMsg    int64
	codec     *wsflate.Codec                 // inflates compressed messages; nil when not negotiated
	onMessage func(cn *conn, payload []byte) // on the reader goroutine; payload is valid until it returns

	lastRead atomic.Int64  // Unix nanoseconds of the last bytes read
	wake     chan struct{} // capacity 1: frames were queued or the conn stopped
	drained  chan struct{} // capacity 1: the last pending request was answered
	lost     chan struct{} // closed by stop
	wg       sync.WaitGroup

	mu      sync.Mutex // guards the fields below
	out     [][]byte   // frames waiting for the writer
	pending map[uint64]*pending
	err     error // why the connection stopped; nil while it runs
}

// pending is a request waiting for its reply: either a waiter on ch or,
// when onReply is set, code run on the reader goroutine (a sub's reply
// must be handled before the publications behind it).
type pending struct {
	ch      chan reply // capacity 1
	onReply func(reply)
}

type reply struct {
	result []byte
	err    error
}

// newConn starts the reader and writer of a connection nc whose
// handshake is done; br holds what was read after it. codec is set when
// permessage-deflate was negotiated.
func newConn(node string, nc net.Conn, br *bufio.Reader, codec *wsflate.Codec, opts Options, onMessage func(*conn, []byte)) *conn {
	cn := &conn{
		node:      node,
		nc:        nc,
		br:        br,
		silence:   2 * opts.PingInterval,
		maxMsg:    opts.MaxMessageSize,
		codec:     codec,
		onMessage: onMessage,
		wake:      make(chan struct{}, 1),
		drained:   make(chan struct{}, 1),
		lost:      make(chan struct{}),
		pending:   make(map[uint64]*pending),
	}
	cn.lastRead.Store(time.Now().UnixNano())
	cn.wg.Add(2)
	go cn.read()
	go cn.write()
	return cn
}

// cause returns why the connection stopped (nil while it runs).
func (cn *conn) cause() error {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.err
}

// idle returns how long nothing has been read.
func (cn *conn) idle() time.Duration {
	return time.Since(time.Unix(0, cn.lastRead.Load()))
}

// send queues a frame. It fails once the connection stopped.
func (cn *conn) send(frame []byte) error {
	return cn.request(0, frame, nil)
}

// request queues a frame and, when p is not nil, registers p for the
// reply to id. It fails, registering nothing, once the connection
// stopped: then the frame was not sent.
func (cn *conn) request(id uint64, frame []byte, p *pending) error {
	cn.mu.Lock()
	if cn.err != nil {
		err := cn.err
		cn.mu.Unlock()
		return fmt.Errorf("%w: %w", ErrConnectionLost, err)
	}
	if p != nil {
		cn.pending[id] = p
	}
	cn.out = append(cn.out, frame)
	cn.mu.Unlock()
	cn.signal()
	return nil
}

// forget drops the pending request id (its caller gave up waiting).
func (cn *conn) forget(id uint64) { cn.take(id) }

// take removes and returns the pending request id, or nil.
func (cn *conn) take(id uint64) *pending {
	cn.mu.Lock()
	p := cn.pending[id]
	delete(cn.pending, id)
	empty := len(cn.pending) == 0
	cn.mu.Unlock()
	if p != nil && empty {
		select {
		case cn.drained <- struct{}{}:
		default:
		}
	}
	return p
}

// waiting returns how many requests wait for a reply.
func (cn *conn) waiting() int {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return len(cn.pending)
}

// retire stops cn once no request waits for a reply on it, or after
// grace, or at once when done ends, and waits for its goroutines. Its
// publications meanwhile are harmless: a subscription drops any seq it
// has delivered already, whichever connection brings it.
func (cn *conn) retire(grace time.Duration, done <-chan struct{}) {
	t := time.NewTimer(grace)
	defer t.Stop()
	for cn.waiting() > 0 {
		select {
		case <-cn.drained:
			continue
		case <-cn.lost:
		case <-t.C:
		case <-done:
		}
		break
	}
	cn.stop(errMoving, closeFrame(ws.StatusGoingAway, "moving to a nearer node"))
	cn.wg.Wait()
}

func (cn *conn) signal() {
	select {
	case cn.wake <- struct{}{}:
	default:
	}
}

// stop ends the connection for err, once; later calls do nothing. With a
// last frame (a Close), the writer sends what is queued and that frame,
// within closeWait, before closing the socket; without one the socket is
// closed at once. Requests waiting for a reply fail with
// ErrConnectionLost. stop never waits for the goroutines: use wg.
func (cn *conn) stop(err error, last []byte) {
	cn.mu.Lock()
	if cn.err != nil {
		cn.mu.Unlock()
		return
	}
	cn.err = err
	if last != nil {
		cn.out = append(cn.out, last)
	}
	waiting := cn.pending
	cn.pending = nil
	cn.mu.Unlock()
	close(cn.lost)
	if last != nil {
		_ = cn.nc.SetWriteDeadline(time.Now().Add(closeWait))
	} else {
		cn.nc.Close()
	}
	cn.signal()
	lostErr := fmt.Errorf("%w: %w", ErrConnectionLost, err)
	for _, p := range waiting {
		if p.ch != nil {
			p.ch <- reply{err: lostErr}
		}
	}
}

// write is the writer goroutine: it sends queued frames, several in one
// system call when they wait together, and closes the socket once the
// connection stopped and its last frames are out.
func (cn *conn) write() {
	defer cn.wg.Done()
	defer cn.nc.Close()
	for {
		cn.mu.Lock()
		out, stopped := cn.out, cn.err != nil
		cn.out = nil
		if len(out) > 0 && !stopped {
			// Under the lock, so that stop's shorter deadline, set
			// after it marks the connection stopped, is never undone.
			_ = cn.nc.SetWriteDeadline(time.Now().Add(cn.silence))
		}
		cn.mu.Unlock()
		if len(out) > 0 {
			bufs := net.Buffers(out)
			if _, err := bufs.WriteTo(cn.nc); err != nil {
				cn.stop(fmt.Errorf("client: write: %w", err), nil)
				return
			}
			continue
		}
		if stopped {
			return
		}
		<-cn.wake
	}
}

// read is the reader goroutine.
func (cn *conn) read() {
	defer cn.wg.Done()
	r := ws.NewReader(ws.ReaderOptions{Role: ws.ClientSide, MaxMessageSize: cn.maxMsg, AllowRSV1: cn.codec != nil})
	buf := make([]byte, 32<<10)
	var inflated []byte // reused from message to message
	for {
		_ = cn.nc.SetReadDeadline(time.Now().Add(cn.silence))
		n, err := cn.br.Read(buf)
		if n > 0 {
			cn.lastRead.Store(time.Now().UnixNano())
			if !cn.decode(r, buf[:n], &inflated) {
				return
			}
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				err = fmt.Errorf("nothing received for %v", cn.silence)
			}
			cn.stop(fmt.Errorf("client: read: %w", err), nil)
			return
		}
	}
}

// decode feeds b to r and acts on the events; false means the
// connection is over. Compressed messages are inflated into *inflated.
func (cn *conn) decode(r *ws.Reader, b []byte, inflated *[]byte) bool {
	for len(b) > 0 {
		n, ev, err := r.Next(b)
		if err != nil {
			var pe *ws.ProtocolError
			code := ws.StatusProtocolError
			if errors.As(err, &pe) {
				code = pe.Code
			}
			cn.stop(fmt.Errorf("client: %w", err), closeFrame(code, ""))
			return false
		}
		b = b[n:]
		switch ev.Kind {
		case ws.EventMessage:
			payload := ev.Payload
			if ev.Compressed {
				out, err := cn.codec.Inflate((*inflated)[:0], payload, cn.maxMsg)
				if err != nil {
					code := ws.StatusInvalidPayload
					if errors.Is(err, wsflate.ErrTooLarge) {
						code = ws.StatusMessageTooBig
					}
					cn.stop(fmt.Errorf("client: %w", err), closeFrame(code, ""))
					return false
				}
				*inflated, payload = out, out
			}
			if ev.Opcode == ws.OpText {
				cn.onMessage(cn, payload)
			}
		case ws.EventPing:
			_ = cn.send(controlFrame(ws.OpPong, ev.Payload))
		case ws.EventClose:
			// Answer with the same code (RFC 6455 §5.5.1).
			cn.stop(&ws.CloseError{Code: ev.CloseCode, Reason: ev.CloseReason}, closeFrame(ev.CloseCode, ""))
			return false
		}
	}
	return true
}
