package engine

import (
	"sync"

	"github.com/wsgate/wsgate/internal/frame"
	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// This file is permessage-deflate with server context takeover (wsflate
// ModeContextTakeover): a connection whose handshake granted it keeps a
// compressor whose history spans its messages, so a message may refer
// back to the ones sent before it.

// ctxStream is the compression context of one connection.
//
// The peer inflates compressed messages in the order they were
// compressed, each relying on the ones before it, so compression order
// must be wire order. A writer therefore compresses a message and hands
// it to the connection's queue (or socket) under mu, one writer at a
// time: WriteMessage, WriteParts, WriteWrapped and WriteFrame may be
// called from any number of goroutines, and their
// compressed frames go out in the order mu was taken. Shared twins
// (prepared frames', shared bodies') are never sent on such a
// connection: its compressor must see every message it sends compressed.
// Messages under the threshold and control frames do not touch the
// Stream or mu; a message that does not shrink empties the Stream's
// history and goes out plain. The peer's decompressor never sees plain
// messages, so they need no place in that order.
//
// Lock order: mu, then Conn.mu. Nothing that holds Conn.mu takes mu.
type ctxStream struct {
	mu   sync.Mutex
	s    *wsflate.Stream // nil when the connection has ended, or holds no slot
	done bool            // the connection has ended and its slot is freed
}

// keepsContext reports whether c's handshake let the server keep its
// compression context between messages.
func (c *Conn) keepsContext() bool {
	return c.deflating() && !c.pmd.ServerNoContextTakeover
}

// stream returns c's compression context, made on its first use: the
// Stream takes over the slot the handshake reserved, and borrows its
// compressor (about 0.8 MB at level 1) at the first message it
// compresses.
func (c *Conn) stream() *ctxStream {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.moreLocked()
	if m.z == nil {
		m.z = &ctxStream{s: c.engine().opts.Codec.NewStream(c.pmd)}
	}
	return m.z
}

// writeContext sends payload compressed through c's Stream when that is
// worth it; sent is false when it is not and nothing was sent (send it
// plain). A connection without a Stream (its Params were not the Codec's
// answer, so no slot was reserved) compresses without context, which its
// peer decodes as well.
func (c *Conn) writeContext(op ws.Opcode, payload []byte) (sent bool, err error) {
	z := c.stream()
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.s == nil {
		if z.done {
			return false, nil // the plain write reports ErrClosed
		}
		return c.writeStateless(op, payload)
	}
	e := c.engine()
	bp := e.getBuf()
	out, ok := z.s.Deflate((*bp)[:0], payload)
	if ok {
		*bp = out
		// Under z.mu: the next message compressed goes out behind this one.
		err = c.writeData(op, ws.Rsv1, out)
	}
	e.putBuf(bp)
	return ok, err
}

// dropContext frees c's compression context when the connection ends:
// the Stream's compressor goes back to the Codec's pool and its slot is
// freed, or, when c never compressed through one, the slot its handshake
// reserved. Writes racing with it, and later ones, find the context done
// and fail with ErrClosed. Called once, by the engine, before OnClose.
func (c *Conn) dropContext() {
	if !c.keepsContext() {
		return
	}
	c.mu.Lock()
	m := c.moreLocked()
	z := m.z
	if z == nil {
		m.z = &ctxStream{done: true}
	}
	c.mu.Unlock()
	if z == nil {
		c.engine().opts.Codec.Release(c.pmd)
		return
	}
	z.mu.Lock()
	z.done = true
	if z.s != nil {
		z.s.Close()
		z.s = nil
	}
	z.mu.Unlock()
}

// writeFrameContext sends the data frame f through c's context when c
// keeps one (a prepared frame's shared twin has no context, and c's
// compressor must see every message c sends compressed); sent is false
// when c has no context or f is not worth compressing, and nothing was
// sent: the caller sends f's plain bytes. Under epoll the compressed
// frame is written like WriteMessage's, from the caller's goroutine.
func (c *Conn) writeFrameContext(f *frame.Prepared) (sent bool, err error) {
	if !c.keepsContext() || !f.Opcode().IsData() {
		return false, nil
	}
	return c.writeDeflated(f.Opcode(), f.Payload())
}
