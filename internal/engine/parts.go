package engine

import (
	"errors"

	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// maxParts is the most parts one WriteParts call takes.
const maxParts = 8

// ErrParts is returned by WriteParts for a call it cannot honour: more
// than maxParts parts, or deflated parts on a connection that did not
// negotiate permessage-deflate.
var ErrParts = errors.New("engine: invalid WriteParts call")

// ServerWindow reports whether c negotiated permessage-deflate and, if
// so, the window its messages must be compressed for. A payload deflated
// for that window with no context (wsflate.Codec.Deflate) may be sent on
// c with WriteParts(op, true, …).
func (c *Conn) ServerWindow() (w wsflate.Window, ok bool) {
	if !c.deflating() {
		return 0, false
	}
	return c.pmd.ServerWindow(), true
}

// WriteParts sends the concatenation of parts as the payload of one
// message of type op (ws.OpText or ws.OpBinary), so that a reply made of
// a small per-message head, a large shared body and a tail needs no
// buffer of its own to be assembled in. When the socket takes the frame
// at once, the header and the parts leave with one writev and nothing is
// copied; otherwise they are copied once, into one buffer, which waits in
// the queue. The caller may reuse every part once WriteParts returns.
//
// deflated says the payload is already compressed as one
// permessage-deflate message for c's window (see ServerWindow): the frame
// goes out with RSV1 set and WriteParts does not compress it again. A
// plain payload is sent as it is, never compressed. At most 8 parts are
// taken; an invalid call returns ErrParts and sends nothing. Other errors
// are those of WriteMessage.
func (c *Conn) WriteParts(op ws.Opcode, deflated bool, parts ...[]byte) error {
	if len(parts) > maxParts || !op.IsData() || deflated && !c.deflating() {
		return ErrParts
	}
	var rsv uint8
	if deflated {
		rsv = ws.Rsv1
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	h := ws.Header{Fin: true, Rsv: rsv, Opcode: op, Length: int64(n)}
	e := c.engine()
	c.mu.Lock()
	if c.state&(stCloseSent|stAborted) != 0 {
		c.mu.Unlock()
		return ErrClosed
	}
	e.countSent(deflated)
	var hdr [ws.MaxHeaderSize]byte
	var bufs [1 + maxParts][]byte
	bufs[0] = ws.AppendHeader(hdr[:0], h)
	k := 1 + copy(bufs[1:], parts)
	err := c.sendDataLocked(bufs[:k], false)
	c.mu.Unlock()
	c.kick()
	return err
}
