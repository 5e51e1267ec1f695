package engine

import (
	"errors"

	"github.com/wsgate/wsgate/internal/frame"
	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// This file sends messages assembled from parts, so that a reply made of
// a small per-message head, a large shared body and a tail needs no
// buffer of its own, and a shared body compressed once serves every
// message it is part of.

// maxParts is the most parts one WriteParts call takes.
const maxParts = 8

// ErrParts is returned by WriteParts and WriteWrapped for a call they
// cannot honour: more than 8 parts, or a control opcode.
var ErrParts = errors.New("engine: invalid WriteParts call")

// WriteParts sends the concatenation of parts as the payload of one
// message of type op (ws.OpText or ws.OpBinary). When the socket takes
// the frame at once, the header and the parts leave with one writev and
// nothing is copied; otherwise they are copied once, into one buffer,
// which waits in the queue. The caller may reuse every part once
// WriteParts returns.
//
// On a connection that negotiated permessage-deflate, a message of at
// least the Codec's threshold is copied into a pooled buffer and sent
// compressed when it shrinks, as WriteMessage sends it (through the
// connection's own context when it keeps one). At most 8 parts are taken;
// an invalid call returns ErrParts and sends nothing. Other errors are
// those of WriteMessage.
func (c *Conn) WriteParts(op ws.Opcode, parts ...[]byte) error {
	if len(parts) > maxParts || !op.IsData() {
		return ErrParts
	}
	if c.deflating() {
		n := 0
		for _, p := range parts {
			n += len(p)
		}
		if n >= c.engine().opts.Codec.Threshold() {
			if sent, err := c.writeAssembled(op, parts...); sent {
				return err
			}
		}
	}
	var hdr [ws.MaxHeaderSize]byte
	var bufs [1 + maxParts][]byte
	k := 1 + copy(bufs[1:], parts)
	n := 0
	for _, p := range bufs[1:k] {
		n += len(p)
	}
	bufs[0] = ws.AppendHeader(hdr[:0], ws.Header{Fin: true, Opcode: op, Length: int64(n)})
	return c.sendParts(false, bufs[:k])
}

// WriteWrapped sends head, body and tail as the payload of one message of
// type op (ws.OpText or ws.OpBinary): a reply that carries a shared body,
// such as a cached result, under a head and tail of its own. head and
// tail are copied, with the frame header, into one pooled buffer; the
// body (not nil) is sent by reference when the socket takes the frame at
// once, with one writev, and copied once otherwise. The caller may reuse
// head and tail once WriteWrapped returns.
//
// On a connection that negotiated permessage-deflate with the full window
// and no context takeover, the message goes out compressed built from
// the body's deflated twin (frame.Body.Deflated, made once for every
// message that carries the body): head and tail are framed around it as
// stored DEFLATE blocks (wsflate.AppendStored, wsflate.AppendStoredTail),
// so the message compresses nothing of its own; when the body has no twin
// (short, or not smaller compressed) the message goes out plain. A
// connection that limited the server's window, or keeps a compression
// context, has the assembled message compressed as WriteParts does. A
// control opcode returns ErrParts; other errors are those of
// WriteMessage.
func (c *Conn) WriteWrapped(op ws.Opcode, head []byte, body *frame.Body, tail []byte) error {
	if !op.IsData() {
		return ErrParts
	}
	plain := body.Bytes()
	switch {
	case !c.deflating():
	case c.pmd.ServerWindow() == wsflate.WindowFull && !c.keepsContext():
		if z := body.Deflated(); len(z) > 0 {
			return c.writeAround(op, true, head, z, tail)
		}
	case len(head)+len(plain)+len(tail) >= c.engine().opts.Codec.Threshold():
		if sent, err := c.writeAssembled(op, head, plain, tail); sent {
			return err
		}
	}
	return c.writeAround(op, false, head, plain, tail)
}

// writeAround sends head, body and tail as one frame, head and tail
// copied with the frame header into one pooled buffer, body by reference.
// With deflated set, body is one message compressed with no context
// (wsflate.Codec.Deflate) and head and tail go around it as stored
// DEFLATE blocks, so the payload, sent with RSV1, inflates to head, body's
// message and tail.
func (c *Conn) writeAround(op ws.Opcode, deflated bool, head, body, tail []byte) error {
	e := c.engine()
	bp := e.getBuf() // free again once sendParts returns: what waits is copied
	defer e.putBuf(bp)
	buf := append((*bp)[:0], make([]byte, ws.MaxHeaderSize)...)
	var rsv uint8
	if deflated {
		rsv = ws.Rsv1
		buf = wsflate.AppendStored(buf, head)
	} else {
		buf = append(buf, head...)
	}
	mid := len(buf)
	if deflated {
		buf = wsflate.AppendStoredTail(buf, tail)
	} else {
		buf = append(buf, tail...)
	}
	*bp = buf
	h := ws.Header{Fin: true, Rsv: rsv, Opcode: op, Length: int64(len(buf) - ws.MaxHeaderSize + len(body))}
	start := ws.MaxHeaderSize - ws.HeaderSize(h)
	ws.AppendHeader(buf[start:start], h)
	return c.sendParts(deflated, [][]byte{buf[start:mid], body, buf[mid:]})
}

// writeAssembled copies parts into one pooled buffer and sends it as
// writeDeflated does; sent is false when compression is not worth it, and
// nothing was sent.
func (c *Conn) writeAssembled(op ws.Opcode, parts ...[]byte) (sent bool, err error) {
	e := c.engine()
	bp := e.getBuf()
	msg := (*bp)[:0]
	for _, p := range parts {
		msg = append(msg, p...)
	}
	*bp = msg
	sent, err = c.writeDeflated(op, msg)
	e.putBuf(bp)
	return sent, err
}

// sendParts sends the data frame made of bufs, its header first, and
// counts it; deflated says its RSV1 is set. The bytes are copied when
// they must wait.
func (c *Conn) sendParts(deflated bool, bufs [][]byte) error {
	c.mu.Lock()
	if c.state&(stCloseSent|stAborted) != 0 {
		c.mu.Unlock()
		return ErrClosed
	}
	c.engine().countSent(deflated)
	err := c.sendDataLocked(bufs, false)
	c.mu.Unlock()
	c.kick()
	return err
}
