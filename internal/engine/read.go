package engine

import (
	"errors"
	"net"
	"os"
	"time"

	"github.com/wsgate/wsgate/ws"
)

// readLoop runs the connection's read side on the Serve goroutine: it
// decodes frames, answers pings and Close frames, delivers messages, keeps
// the connection alive with pings and ends it when the peer goes quiet.
func (c *Conn) readLoop() {
	defer c.e.wg.Done()
	c.h.OnOpen(c)

	r := ws.NewReader(ws.ReaderOptions{Role: ws.ServerSide, MaxMessageSize: c.e.opts.MaxMessageSize})
	rs := readState{lastRead: time.Now()}
	if c.br != nil && c.br.Buffered() > 0 {
		early, _ := c.br.Peek(c.br.Buffered())
		c.consume(r, &rs, early)
	}
	c.br = nil

	buf := make([]byte, c.e.opts.ReadBufferSize)
	for !rs.done {
		c.armReadDeadline(&rs)
		n, err := c.nc.Read(buf)
		if n > 0 {
			rs.lastRead = time.Now()
			rs.pinged = false
			c.consume(r, &rs, buf[:n])
		}
		if err != nil && !rs.done {
			if isTimeout(err) && c.onReadTimeout(&rs) {
				continue
			}
			c.abort(err)
			break
		}
	}
	// After the peer's Close, let the writer send our answer; otherwise
	// (an error, or no answer to our Close in time) there is no one to
	// wait for.
	c.finish(rs.done)
}

// readState is the read side's bookkeeping; only readLoop touches it.
type readState struct {
	lastRead time.Time // when the peer last sent a byte
	pinged   bool      // a keep-alive ping went out since lastRead
	failed   bool      // the peer broke the protocol; input is discarded
	done     bool      // stop reading
}

// consume feeds b to the decoder and acts on every event in it.
func (c *Conn) consume(r *ws.Reader, rs *readState, b []byte) {
	for len(b) > 0 && !rs.failed && !rs.done {
		n, ev, err := r.Next(b)
		b = b[n:]
		if err != nil {
			rs.failed = true
			c.fail(err)
			return
		}
		switch ev.Kind {
		case ws.EventMessage:
			if !c.closing() {
				c.h.OnMessage(c, ev.Opcode, ev.Payload)
			}
		case ws.EventPing:
			c.enqueueControl(ws.OpPong, ev.Payload)
		case ws.EventClose:
			c.onPeerClose(rs, ev.CloseCode, ev.CloseReason)
		}
	}
}

// fail answers a protocol violation: a Close frame with the violation's
// code, then a half-close so that the peer ends the TCP connection.
func (c *Conn) fail(err error) {
	code, reason := ws.StatusProtocolError, "protocol error"
	var pe *ws.ProtocolError
	if errors.As(err, &pe) {
		code, reason = pe.Code, pe.Reason
	}
	c.mu.Lock()
	c.setCauseLocked(err)
	c.startCloseLocked(code, reason)
	c.halfClose = true
	c.mu.Unlock()
	c.signal()
}

// onPeerClose handles the peer's Close frame: answer it (echoing the code)
// unless ours went first, let the writer send what is queued, and stop.
func (c *Conn) onPeerClose(rs *readState, code ws.StatusCode, reason string) {
	c.mu.Lock()
	c.closeRecv = true
	c.setCauseLocked(&ws.CloseError{Code: code, Reason: reason})
	if !c.closeSent {
		// An empty Close (1005) is answered with an empty Close.
		c.startCloseLocked(code, "")
	}
	c.mu.Unlock()
	c.signal()
	rs.done = true
}

// onReadTimeout sends a keep-alive ping or ends an idle or closing
// connection. It reports whether reading should go on.
func (c *Conn) onReadTimeout(rs *readState) bool {
	if c.closing() {
		return false // the peer did not answer our Close in time
	}
	idle := time.Since(rs.lastRead)
	if idle >= c.e.opts.IdleTimeout {
		c.mu.Lock()
		c.setCauseLocked(ErrIdleTimeout)
		c.startCloseLocked(ws.StatusGoingAway, "idle timeout")
		c.mu.Unlock()
		c.signal()
		return true
	}
	if !rs.pinged && idle >= c.e.opts.PingInterval {
		rs.pinged = true
		c.enqueueControl(ws.OpPing, nil)
	}
	return true
}

// armReadDeadline sets the read deadline for the next read: the closing
// timeout set by startCloseLocked while closing, otherwise the next ping
// or idle check.
func (c *Conn) armReadDeadline(rs *readState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeSent {
		return
	}
	next := rs.lastRead.Add(c.e.opts.PingInterval)
	if rs.pinged {
		next = rs.lastRead.Add(c.e.opts.IdleTimeout)
	}
	c.nc.SetReadDeadline(next)
}

func (c *Conn) closing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeSent
}

// finish ends the connection after the read side stopped: when
// flushWrites is set it lets the writer send what is queued and our Close
// frame (bounded by WriteTimeout), then it drops the TCP connection and
// reports to the Handler.
func (c *Conn) finish(flushWrites bool) {
	if flushWrites {
		<-c.writerDone
	}
	c.abort(ErrClosed)
	<-c.writerDone
	c.e.remove(c)
	c.mu.Lock()
	cause := c.cause
	c.mu.Unlock()
	c.h.OnClose(c, cause)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
