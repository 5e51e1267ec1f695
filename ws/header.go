package ws

import "encoding/binary"

// MaxHeaderSize is the largest frame header in bytes: 2 fixed bytes, an
// 8-byte extended length and a 4-byte masking key.
const MaxHeaderSize = 14

// MaxControlPayload is the largest payload of a control frame in bytes
// (RFC 6455 §5.5).
const MaxControlPayload = 125

// The RSV bits as they sit in the first header byte. RFC 7692
// (permessage-deflate) gives RSV1 its meaning; RSV2 and RSV3 have none.
const (
	Rsv1 uint8 = 0x40
	Rsv2 uint8 = 0x20
	Rsv3 uint8 = 0x10
)

// Header is a decoded frame header (RFC 6455 §5.2).
type Header struct {
	Fin    bool
	Rsv    uint8 // RSV bits in their header positions: Rsv1|Rsv2|Rsv3
	Opcode Opcode
	Masked bool
	Mask   [4]byte // meaningful only when Masked
	Length int64   // payload length in bytes, 0 to 1<<63-1
}

// ParseHeader decodes a frame header at the start of b and returns it with
// its size in bytes. n == 0 and err == nil mean b does not yet hold the
// whole header: call again with more bytes. b is only read.
//
// ParseHeader rejects only what makes the header itself malformed, as a
// *ProtocolError with code 1002: a length not in its minimal encoding and a
// 64-bit length with the most significant bit set (RFC 6455 §5.2). It does
// not apply policy (masking required, RSV bits allowed, reserved opcodes,
// control frame size); Reader does.
func ParseHeader(b []byte) (h Header, n int, err error) {
	if len(b) < 2 {
		return Header{}, 0, nil
	}
	b0, b1 := b[0], b[1]
	h.Fin = b0&0x80 != 0
	h.Rsv = b0 & (Rsv1 | Rsv2 | Rsv3)
	h.Opcode = Opcode(b0 & 0x0F)
	h.Masked = b1&0x80 != 0
	n = 2
	switch l := b1 & 0x7F; l {
	case 126:
		if len(b) < 4 {
			return Header{}, 0, nil
		}
		h.Length = int64(binary.BigEndian.Uint16(b[2:4]))
		if h.Length < 126 {
			return Header{}, 0, &ProtocolError{Code: StatusProtocolError, Reason: "non-minimal 16-bit payload length"}
		}
		n = 4
	case 127:
		if len(b) < 10 {
			return Header{}, 0, nil
		}
		u := binary.BigEndian.Uint64(b[2:10])
		if u>>63 != 0 {
			return Header{}, 0, &ProtocolError{Code: StatusProtocolError, Reason: "64-bit payload length with the top bit set"}
		}
		if u <= 0xFFFF {
			return Header{}, 0, &ProtocolError{Code: StatusProtocolError, Reason: "non-minimal 64-bit payload length"}
		}
		h.Length = int64(u)
		n = 10
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		if len(b) < n+4 {
			return Header{}, 0, nil
		}
		copy(h.Mask[:], b[n:n+4])
		n += 4
	}
	return h, n, nil
}

// HeaderSize returns the size in bytes of h's wire form, 2 to
// MaxHeaderSize.
func HeaderSize(h Header) int {
	n := 2
	switch {
	case h.Length > 0xFFFF:
		n += 8
	case h.Length > 125:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// AppendHeader appends the wire form of h to dst, with the length in its
// minimal encoding, and returns the extended slice. Only the low 4 bits of
// h.Opcode and the RSV bits of h.Rsv are used. h.Length must not be
// negative; AppendHeader panics if it is, as that is a bug in the caller.
func AppendHeader(dst []byte, h Header) []byte {
	if h.Length < 0 {
		panic("ws: negative frame length")
	}
	b0 := byte(h.Opcode&0x0F) | h.Rsv&(Rsv1|Rsv2|Rsv3)
	if h.Fin {
		b0 |= 0x80
	}
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	switch {
	case h.Length > 0xFFFF:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(h.Length))
	case h.Length > 125:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(h.Length))
	default:
		dst = append(dst, b0, b1|byte(h.Length))
	}
	if h.Masked {
		dst = append(dst, h.Mask[:]...)
	}
	return dst
}

// AppendFrame appends a complete unmasked frame, as a server sends it, to
// dst and returns the extended slice. rsv holds RSV bits as in Header.Rsv.
// payload is copied and not modified.
func AppendFrame(dst []byte, op Opcode, fin bool, rsv uint8, payload []byte) []byte {
	dst = AppendHeader(dst, Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(len(payload))})
	return append(dst, payload...)
}

// AppendMaskedFrame appends a complete frame masked with key, as a client
// sends it, to dst and returns the extended slice. payload is copied and
// masked in dst; the caller's payload is not modified. Use NewMaskKey for
// key: RFC 6455 §5.3 requires it to be unpredictable.
func AppendMaskedFrame(dst []byte, op Opcode, fin bool, rsv uint8, key [4]byte, payload []byte) []byte {
	dst = AppendHeader(dst, Header{Fin: fin, Rsv: rsv, Opcode: op, Masked: true, Mask: key, Length: int64(len(payload))})
	start := len(dst)
	dst = append(dst, payload...)
	MaskBytes(key, 0, dst[start:])
	return dst
}
