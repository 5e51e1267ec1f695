package ws

import (
	"crypto/rand"
	"encoding/binary"
)

// MaskBytes XORs b in place with key, starting at byte pos (0 to 3) of the
// key, and returns the key position for the byte after b. Masking and
// unmasking are the same operation (RFC 6455 §5.3), and a payload can be
// processed in pieces by passing the returned position to the next call:
//
//	pos := 0
//	pos = ws.MaskBytes(key, pos, part1)
//	pos = ws.MaskBytes(key, pos, part2)
//
// Only the low 2 bits of pos are used. Long slices are processed 8 bytes at
// a time.
func MaskBytes(key [4]byte, pos int, b []byte) int {
	pos &= 3
	n := len(b)
	// Align the key so that b[0] is XORed with key[pos], then work on
	// whole words while they last.
	if n >= 8 {
		var rk [8]byte
		for i := range rk {
			rk[i] = key[(pos+i)&3]
		}
		kw := binary.LittleEndian.Uint64(rk[:])
		for len(b) >= 32 {
			binary.LittleEndian.PutUint64(b[0:8], binary.LittleEndian.Uint64(b[0:8])^kw)
			binary.LittleEndian.PutUint64(b[8:16], binary.LittleEndian.Uint64(b[8:16])^kw)
			binary.LittleEndian.PutUint64(b[16:24], binary.LittleEndian.Uint64(b[16:24])^kw)
			binary.LittleEndian.PutUint64(b[24:32], binary.LittleEndian.Uint64(b[24:32])^kw)
			b = b[32:]
		}
		for len(b) >= 8 {
			binary.LittleEndian.PutUint64(b[:8], binary.LittleEndian.Uint64(b[:8])^kw)
			b = b[8:]
		}
	}
	// Whole words are multiples of 4 bytes, so the key position of what
	// is left is unchanged.
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + n) & 3
}

// NewMaskKey returns a masking key from crypto/rand, as RFC 6455 §5.3
// requires (the key must not be predictable by the application).
func NewMaskKey() [4]byte {
	var k [4]byte
	// crypto/rand.Read never returns an error since Go 1.24.
	_, _ = rand.Read(k[:])
	return k
}
