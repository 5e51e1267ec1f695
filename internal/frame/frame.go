// Package frame holds what many connections share when they are sent the
// same bytes, so that the work is done once:
//
//   - Prepared, a whole server-to-client message encoded once and sent, by
//     reference, to any number of connections (a publication's fan-out),
//     with its deflated twins for connections that compress;
//   - Body, the shared part of messages that differ only around it (a
//     cached call result under each reply's own id), with its deflated
//     twin, which a connection splices between the compressed forms of its
//     own head and tail.
//
// Twins are compressed with no context (RFC 7692 §7.2.1), built on first
// use by the wsflate.Codec given at construction, exactly once, and kept
// as long as the Prepared or Body is referenced.
package frame

import (
	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// Prepared is one message in its wire form, built once and shared by every
// connection it is sent to, plus, when it was made by NewDeflatable, its
// deflated twins (see Deflated). A Prepared is immutable after New apart
// from the twins it builds once, and safe for concurrent use; callers must
// not modify the slices it returns.
type Prepared struct {
	op      ws.Opcode
	payload []byte    // a sub-slice of wire
	wire    []byte    // header and payload, unmasked, FIN set
	z       *deflated // nil unless made by NewDeflatable with a Codec
}

// New prepares a single-frame message of type op carrying payload. The
// payload is copied, so the caller may reuse it. The frame has no deflated
// twin: Deflated always returns nil.
func New(op ws.Opcode, payload []byte) *Prepared {
	p := new(Prepared)
	p.init(op, payload)
	return p
}

// init fills p with the frame of op carrying a copy of payload.
func (p *Prepared) init(op ws.Opcode, payload []byte) {
	h := ws.Header{Fin: true, Opcode: op, Length: int64(len(payload))}
	wire := make([]byte, 0, ws.HeaderSize(h)+len(payload))
	wire = ws.AppendHeader(wire, h)
	hl := len(wire)
	wire = append(wire, payload...)
	p.op, p.payload, p.wire = op, wire[hl:], wire
}

// NewDeflatable is New for a frame that may also be sent compressed: its
// deflated twins are built by c, with c's level and threshold, the first
// time Deflated asks for them. A nil c is the same as New.
func NewDeflatable(c *wsflate.Codec, op ws.Opcode, payload []byte) *Prepared {
	if c == nil {
		return New(op, payload)
	}
	// One allocation holds the frame and its twins; a plain frame does
	// not pay for them.
	both := &struct {
		p Prepared
		z deflated
	}{z: deflated{codec: c}}
	both.p.init(op, payload)
	both.p.z = &both.z
	return &both.p
}

// Opcode is the message type: ws.OpText or ws.OpBinary (or a control opcode).
func (p *Prepared) Opcode() ws.Opcode { return p.op }

// Payload is the message body, without the frame header.
func (p *Prepared) Payload() []byte { return p.payload }

// Wire is the complete frame as sent to a connection without compression.
func (p *Prepared) Wire() []byte { return p.wire }

// Len is the size of Wire in bytes.
func (p *Prepared) Len() int { return len(p.wire) }
