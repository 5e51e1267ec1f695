package wsflate

import (
	"errors"

	"github.com/klauspost/compress/flate"
)

// trailer is the empty stored block a sync flush ends with; RFC 7692
// §7.2.1 removes it from every compressed message.
const trailer = "\x00\x00\xff\xff"

// maxPooledScratch bounds the output buffer a pooled compressor keeps, in
// bytes, so one huge message does not pin its size in the pool.
const maxPooledScratch = 256 << 10

// errNotSmaller stops a compressor whose output has grown past the size
// of its input: the result would not be worth sending.
var errNotSmaller = errors.New("wsflate: output not smaller than input")

// deflater is a pooled compressor and the buffer it writes into.
type deflater struct {
	fw  *flate.Writer
	out sink
}

// sink collects compressed output, refusing to grow past max bytes.
type sink struct {
	b   []byte
	max int
}

func (s *sink) Write(p []byte) (int, error) {
	if len(s.b)+len(p) > s.max {
		return 0, errNotSmaller
	}
	s.b = append(s.b, p...)
	return len(p), nil
}

// newDeflater returns a compressor for window w at level.
func newDeflater(w Window, level int) *deflater {
	d := new(deflater)
	var err error
	if w == WindowSmall && level != int(LevelHuffmanOnly) {
		d.fw, err = flate.NewWriterWindow(&d.out, smallWindow)
	} else {
		d.fw, err = flate.NewWriter(&d.out, level)
	}
	if err != nil { // levels and window are checked by Options.validate
		panic("wsflate: " + err.Error())
	}
	return d
}

// getDeflater takes a compressor for window w from the pool, with an
// empty history.
func (c *Codec) getDeflater(w Window) *deflater {
	if d, ok := c.writers[w].Get().(*deflater); ok {
		return d
	}
	return newDeflater(w, c.opts.level())
}

// putDeflater resets d (dropping its history and output) and pools it.
func (c *Codec) putDeflater(w Window, d *deflater) {
	if cap(d.out.b) > maxPooledScratch {
		d.out.b = nil
	}
	d.out.b = d.out.b[:0]
	d.fw.Reset(&d.out)
	c.writers[w].Put(d)
}

// compress runs msg through d as one message, flushed, and returns the
// output without the trailer in d's buffer (valid until d is reused). ok
// is false when the output is not smaller than msg; d then needs a reset.
func (c *Codec) compress(d *deflater, msg []byte) (out []byte, ok bool) {
	c.compressions.Add(1)
	d.out.b = d.out.b[:0]
	d.out.max = len(msg) + len(trailer) - 1
	if _, err := d.fw.Write(msg); err != nil {
		return nil, false
	}
	if err := d.fw.Flush(); err != nil {
		return nil, false
	}
	out = d.out.b
	if len(out) < len(trailer) || string(out[len(out)-len(trailer):]) != trailer {
		return nil, false // cannot happen with a sync flush; send plain
	}
	out = out[:len(out)-len(trailer)]
	c.compressed.Add(1)
	c.bytesIn.Add(uint64(len(msg)))
	c.bytesOut.Add(uint64(len(out)))
	return out, true
}

// Deflate appends to dst the payload of msg compressed as one
// permessage-deflate message with no context (RFC 7692 §7.2.1: DEFLATE,
// sync flush, trailing 0x00 0x00 0xff 0xff removed), using a pooled
// compressor for window w, and reports ok. Send it in a frame with RSV1
// set.
//
// ok is false, and dst is returned unchanged, when msg is shorter than
// the Threshold or its compressed form is not smaller than msg: send msg
// plain with RSV1 clear. Compression of an incompressible message stops as
// soon as the output outgrows the input. msg is only read.
func (c *Codec) Deflate(dst, msg []byte, w Window) (out []byte, ok bool) {
	if len(msg) < c.Threshold() || w > WindowSmall {
		return dst, false
	}
	d := c.getDeflater(w)
	z, ok := c.compress(d, msg)
	if ok {
		dst = append(dst, z...)
	}
	c.putDeflater(w, d)
	return dst, ok
}

// Stream is one connection's compressor in ModeContextTakeover: its
// history spans messages, so a message may refer back to the ones before
// it (RFC 7692 §7.2.1 with context takeover). A Stream's output is valid
// for its own connection only, so a connection with a Stream compresses
// its messages itself instead of sending prepared twins.
//
// The peer decodes the messages in the order Deflate made them, each one
// relying on all of those before it: send every message Deflate reports
// ok, in that order (a connection compresses and queues a message under
// one lock), and stop sending compressed messages once one is lost.
//
// A Stream is used by one goroutine at a time. It borrows a compressor
// from the Codec's pool at its first compressed message and keeps it
// until Close; Close also frees its context slot.
type Stream struct {
	c      *Codec
	w      Window
	d      *deflater // nil until the first compressed message and after Close
	closed bool
}

// NewStream returns the Stream of a connection whose handshake got the
// answer p from Negotiate, and hands it the context slot Negotiate
// reserved: Stream.Close frees it. It returns nil when p reserved no slot
// (the Codec is not in ModeContextTakeover, or p says
// server_no_context_takeover); such a connection uses Deflate and
// prepared twins. Call NewStream at most once per answer: each call
// takes over the same slot. The Stream borrows its compressor at its
// first compressed message, so a Stream that never compresses costs a few
// words.
func (c *Codec) NewStream(p Params) *Stream {
	if !c.reserves(p) {
		return nil
	}
	return &Stream{c: c, w: p.ServerWindow()}
}

// Deflate is Codec.Deflate with s's context: it appends msg compressed,
// possibly referring back to earlier messages of s, and reports ok. When
// ok is false (msg below the Threshold, or not smaller compressed; dst is
// unchanged), send msg plain: in the latter case the context restarts
// empty, which the peer cannot tell. After Close, Deflate reports false.
func (s *Stream) Deflate(dst, msg []byte) (out []byte, ok bool) {
	if s.closed || len(msg) < s.c.Threshold() {
		return dst, false
	}
	if s.d == nil {
		s.d = s.c.getDeflater(s.w)
	}
	z, ok := s.c.compress(s.d, msg)
	if !ok {
		s.d.out.b = s.d.out.b[:0]
		s.d.fw.Reset(&s.d.out)
		return dst, false
	}
	return append(dst, z...), true
}

// Close returns s's compressor to the pool and frees its context slot.
// Close is idempotent.
func (s *Stream) Close() {
	if s.closed {
		return
	}
	s.closed = true
	if s.d != nil {
		s.c.putDeflater(s.w, s.d)
		s.d = nil
	}
	s.c.held.Add(-1)
}
