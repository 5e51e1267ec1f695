package engine

import (
	"errors"

	"github.com/wsgate/wsgate/ws"
)

// This file is the read side both engines share: what to do with the
// frames a peer sends, and when to ping or give up on a quiet peer.

// consume feeds b to r and acts on every event in it: messages go to the
// Handler, pings are answered, a Close is answered and ends reading, a
// protocol violation fails the connection. It reports whether b ended
// with the end of a message, which leaves r holding nothing.
func (c *Conn) consume(r *ws.Reader, b []byte) (msgEnd bool) {
	for len(b) > 0 && c.rflags&(rFailed|rDone) == 0 {
		n, ev, err := r.Next(b)
		b = b[n:]
		msgEnd = false
		if err != nil {
			c.rflags |= rFailed
			c.fail(err)
			return false
		}
		switch ev.Kind {
		case ws.EventMessage:
			switch {
			case c.closing():
			case ev.Compressed:
				if err := c.deliverCompressed(ev.Opcode, ev.Payload); err != nil {
					c.rflags |= rFailed
					c.fail(err)
					return false
				}
			default:
				c.h.OnMessage(c, ev.Opcode, ev.Payload)
			}
			msgEnd = len(b) == 0
		case ws.EventPing:
			c.sendControl(ws.OpPong, ev.Payload)
		case ws.EventClose:
			c.onPeerClose(ev.CloseCode, ev.CloseReason)
		}
	}
	return msgEnd
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
	c.state |= stHalfClose
	c.startCloseLocked(code, reason)
	c.mu.Unlock()
	c.kick()
}

// onPeerClose handles the peer's Close frame: answer it (echoing the
// code) unless ours went first, and stop reading. The connection ends
// once our Close frame is out.
func (c *Conn) onPeerClose(code ws.StatusCode, reason string) {
	c.rflags |= rDone
	c.mu.Lock()
	c.state |= stCloseRecv
	c.setCauseLocked(&ws.CloseError{Code: code, Reason: reason})
	if c.state&stCloseSent == 0 {
		// An empty Close (1005) is answered with an empty Close.
		c.startCloseLocked(code, "")
	}
	c.mu.Unlock()
	c.kick()
}

// onRead records that the peer sent bytes at now (engine clock).
func (c *Conn) onRead(now int64) {
	c.lastRead = now
	c.rflags &^= rPinged
}

// keepAlive applies the timeouts at now (engine clock): it pings a peer
// silent for PingInterval and starts closing (1001) one silent for
// IdleTimeout, and closes (1008) one whose queue stayed over its limit for
// half of WriteTimeout (backpressure.go); then it rings the alarm when it
// is due (alarm.go). It reports whether the connection must
// be dropped at once:
// the peer did not answer our Close within CloseTimeout, or (epoll)
// accepted no byte for WriteTimeout while data waited.
func (c *Conn) keepAlive(now int64) (drop bool) {
	o := &c.engine().opts
	c.mu.Lock()
	switch {
	case c.state&stAborted != 0:
		c.mu.Unlock()
		return true
	case c.state&stCloseSent != 0:
		drop = now >= c.more.closeBy // set with stCloseSent
		c.mu.Unlock()
		return drop
	case c.tr.stalledLocked(now):
		c.setCauseLocked(ErrWriteTimeout)
		c.mu.Unlock()
		return true
	case c.fullTooLongLocked(now):
		c.slowConsumerLocked()
		c.mu.Unlock()
		c.kick()
		return false
	}
	c.mu.Unlock()
	idle := now - c.lastRead
	if idle >= int64(o.IdleTimeout) {
		c.mu.Lock()
		c.setCauseLocked(ErrIdleTimeout)
		c.startCloseLocked(ws.StatusGoingAway, "idle timeout")
		c.mu.Unlock()
		c.kick()
		return false
	}
	if c.rflags&rPinged == 0 && idle >= int64(o.PingInterval) {
		c.rflags |= rPinged
		c.sendControl(ws.OpPing, nil)
	}
	c.ringAlarm(now)
	return false
}
