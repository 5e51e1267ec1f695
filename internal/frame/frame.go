// Package frame holds prepared frames: a server-to-client WebSocket message
// encoded once and sent, by reference, to any number of connections.
package frame

import "github.com/wsgate/wsgate/ws"

// Prepared is one message in its wire form, built once and shared by every
// connection it is sent to. A Prepared is immutable after New and safe for
// concurrent use; callers must not modify the slices it returns.
type Prepared struct {
	op      ws.Opcode
	payload []byte // a sub-slice of wire
	wire    []byte // header and payload, unmasked, FIN set
}

// New prepares a single-frame message of type op carrying payload. The
// payload is copied, so the caller may reuse it.
func New(op ws.Opcode, payload []byte) *Prepared {
	h := ws.Header{Fin: true, Opcode: op, Length: int64(len(payload))}
	wire := make([]byte, 0, ws.HeaderSize(h)+len(payload))
	wire = ws.AppendHeader(wire, h)
	hl := len(wire)
	wire = append(wire, payload...)
	return &Prepared{op: op, payload: wire[hl:], wire: wire}
}

// Opcode is the message type: ws.OpText or ws.OpBinary (or a control opcode).
func (p *Prepared) Opcode() ws.Opcode { return p.op }

// Payload is the message body, without the frame header.
func (p *Prepared) Payload() []byte { return p.payload }

// Wire is the complete frame as sent to a connection without compression.
func (p *Prepared) Wire() []byte { return p.wire }

// Len is the size of Wire in bytes.
func (p *Prepared) Len() int { return len(p.wire) }
