package frame

import (
	"sync"
	"sync/atomic"

	"github.com/wsgate/wsgate/ws/wsflate"
)

// Body is the shared part of many messages that differ only around it,
// such as a cached call result that each reply carries under its own id
// (engine.Conn.WriteWrapped sends head + body + tail). It holds the plain
// bytes and, when made with a Codec, their deflated twin: the body
// compressed on its own with no context for the full window
// (wsflate.Codec.Deflate), which a connection that compresses with that
// window splices between its own head and tail, so a message made of a
// Body compresses nothing once the twin exists.
//
// A Body is immutable apart from the twin it builds once, and safe for
// concurrent use; callers must not modify the slices it returns.
type Body struct {
	plain     []byte
	codec     *wsflate.Codec // nil: no twin
	onDeflate func()

	once sync.Once
	twin []byte       // set by once; empty: not worth compressing
	size atomic.Int64 // len(plain) + len(twin), for readers that must not build it
}

// NewBody returns a Body holding plain, which it keeps (it is not
// copied, so nobody may modify it afterwards). Its twin is built by c,
// with c's level and threshold, the first time Deflated is called; a nil
// c means the Body has no twin. onDeflate, when not nil, is called once
// right after a non-empty twin is built, on the goroutine that built it
// and before any caller of Deflated gets the twin; a cache uses it to
// count the twin's bytes in its entry's weight. It must not call b's
// methods other than Bytes and Size.
func NewBody(c *wsflate.Codec, plain []byte, onDeflate func()) *Body {
	b := &Body{plain: plain, codec: c, onDeflate: onDeflate}
	b.size.Store(int64(len(plain)))
	return b
}

// Bytes is the plain body.
func (b *Body) Bytes() []byte { return b.plain }

// Deflated returns the body compressed as one permessage-deflate message
// with no context for wsflate.WindowFull (RFC 7692 §7.2.1: the trailing
// 00 00 ff ff removed), without a frame header. It is empty when the body
// has no Codec, is shorter than the Codec's threshold or does not shrink:
// send it plain then.
//
// The twin is built on the first call, exactly once however many
// goroutines ask at the same time; the others wait for it. Later calls
// return the same bytes without locking or allocating.
func (b *Body) Deflated() []byte {
	if b.codec == nil {
		return nil
	}
	b.once.Do(b.deflate)
	return b.twin
}

// deflate builds the twin; once.Do runs it.
func (b *Body) deflate() {
	z, ok := b.codec.Deflate(nil, b.plain, wsflate.WindowFull)
	if !ok {
		return
	}
	b.twin = z
	b.size.Add(int64(len(z)))
	if b.onDeflate != nil {
		b.onDeflate()
	}
}

// Size is the number of bytes b holds: the plain body, plus its twin
// once built. It never builds the twin.
func (b *Body) Size() int { return int(b.size.Load()) }
