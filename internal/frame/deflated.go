package frame

import (
	"sync"

	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// maxServerHeader is the largest header of an unmasked frame in bytes.
const maxServerHeader = ws.MaxHeaderSize - 4

// deflated is what a Prepared made by NewDeflatable adds: the Codec that
// compresses it and a twin per wsflate.Window.
type deflated struct {
	codec *wsflate.Codec
	twins [2]twin
}

// twin is a Prepared's deflated form for one window, built at most once.
type twin struct {
	once sync.Once
	wire []byte // header (RSV1 set) and compressed payload; nil: send plain
}

// Deflated returns the frame compressed for a connection that negotiated
// permessage-deflate and compresses with window w (wsflate.Params
// ServerWindow): one frame, FIN and RSV1 set, whose payload is the message
// deflated with no context (RFC 7692 §7.2.1). It returns nil when the
// frame has no twin: made by New, a control frame, shorter than the
// codec's threshold, or not smaller compressed. Send Wire then.
//
// The twin for each window is built on the first call that asks for it,
// exactly once however many goroutines ask at the same time; the others
// wait for it. Later calls return the same bytes without locking or
// allocating. An engine picks the bytes to send like this:
//
//	b := p.Wire()
//	if deflate { // the connection negotiated permessage-deflate
//		if z := p.Deflated(params.ServerWindow()); z != nil {
//			b = z
//		}
//	}
func (p *Prepared) Deflated(w wsflate.Window) []byte {
	if p.z == nil || !p.op.IsData() || int(w) >= len(p.z.twins) {
		return nil
	}
	t := &p.z.twins[w]
	t.once.Do(func() { t.wire = deflate(p.z.codec, p.op, p.payload, w) })
	return t.wire
}

// deflate builds a deflated frame, or returns nil when compression is not
// worth it. It makes one allocation of about the frame's size: the
// compressed payload is appended behind room for the longest header, and
// the header is written right in front of it.
func deflate(c *wsflate.Codec, op ws.Opcode, payload []byte, w wsflate.Window) []byte {
	buf, ok := c.Deflate(make([]byte, maxServerHeader), payload, w)
	if !ok {
		return nil
	}
	h := ws.Header{Fin: true, Rsv: ws.Rsv1, Opcode: op, Length: int64(len(buf) - maxServerHeader)}
	start := maxServerHeader - ws.HeaderSize(h)
	ws.AppendHeader(buf[start:start], h)
	return buf[start:]
}
