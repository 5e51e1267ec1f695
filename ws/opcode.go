package ws

import "strconv"

// Opcode is the 4-bit frame type of RFC 6455 §5.2.
type Opcode uint8

// The opcodes defined by RFC 6455 §11.8. The others are reserved.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// String returns the opcode's name ("Text", "Close"…) or "Opcode(N)" for
// a reserved or out-of-range value.
func (o Opcode) String() string {
	switch o {
	case OpContinuation:
		return "Continuation"
	case OpText:
		return "Text"
	case OpBinary:
		return "Binary"
	case OpClose:
		return "Close"
	case OpPing:
		return "Ping"
	case OpPong:
		return "Pong"
	}
	return "Opcode(" + strconv.Itoa(int(o)) + ")"
}

// IsControl reports whether o is a control opcode (0x8 to 0xF, RFC 6455
// §5.5), including the reserved ones.
func (o Opcode) IsControl() bool { return o&0x8 != 0 && o <= 0xF }

// IsData reports whether o starts a data message (OpText or OpBinary).
func (o Opcode) IsData() bool { return o == OpText || o == OpBinary }

// IsReserved reports whether o is one of the opcodes RFC 6455 reserves for
// future use (0x3 to 0x7 and 0xB to 0xF). Values above 0xF do not fit in a
// frame header and are reported as reserved too.
func (o Opcode) IsReserved() bool {
	return (o >= 0x3 && o <= 0x7) || o >= 0xB
}
