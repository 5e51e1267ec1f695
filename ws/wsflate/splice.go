package wsflate

// This file splices plain bytes around a message compressed once, so that
// many messages differing only around a shared part (a cached result under
// each call's own id) need no compression of their own:
//
//	payload := AppendStored(nil, head) + z + AppendStoredTail(nil, tail)
//
// inflates to head, then z's message, then tail. z is a Codec.Deflate
// output, kept as it is. The bit-level facts this rests on (RFC 1951
// §3.2.3–3.2.4, RFC 7692 §7.2.1):
//
//   - A stored block is a 3-bit header (BFINAL, then BTYPE = 00), padding
//     to the next byte boundary, then LEN and NLEN (its ones' complement),
//     two bytes each, little-endian, then LEN bytes of data, at most
//     65,535. Starting on a byte boundary, its header byte is 0x00
//     (BFINAL = 0) and it ends on a byte boundary.
//   - Codec.Deflate starts a fresh stream (byte-aligned, empty history) and
//     ends it with a sync flush: an empty stored block whose LEN and NLEN,
//     00 00 ff ff, RFC 7692 removes. So z ends on a byte boundary right
//     after that block's header bits and padding, waiting for its length.
//   - z's back-references reach only into z's own message, since it was
//     compressed with no history, so bytes in front of it change nothing.
//
// Hence head goes in front as stored blocks, and tail is written as the
// length and data of z's open stored block (and further blocks when it is
// longer than 65,535 bytes), followed by the header of a last empty stored
// block whose 00 00 ff ff is left out, as RFC 7692 asks of every message.

// maxStored is the most data one stored block holds, in bytes.
const maxStored = 65535

// AppendStored appends b to dst as DEFLATE stored blocks, none of them
// final, and returns the extended slice: 5 bytes of framing per 65,535
// bytes of b, none for an empty b. It is the head of a spliced payload
// (see AppendStoredTail); dst must end on a byte boundary of the stream,
// as it does when empty.
func AppendStored(dst, b []byte) []byte {
	for len(b) > 0 {
		n := min(len(b), maxStored)
		dst = appendStoredLen(append(dst, 0x00), n)
		dst = append(dst, b[:n]...)
		b = b[n:]
	}
	return dst
}

// AppendStoredTail appends to dst the bytes that, written right after z, a
// message compressed by Codec.Deflate, make z go on with b: the payload
// then inflates to z's message followed by b, and ends as RFC 7692
// §7.2.1 requires. It adds len(b)+5 bytes (5 more per further 65,535 bytes
// of b); for an empty b it adds nothing, as z is a complete payload then.
//
// It relies on z ending inside the empty stored block of a sync flush,
// with the block's length removed, which is what Codec.Deflate and every
// no-context permessage-deflate sender built on a sync flush produce; a z
// from elsewhere may not.
func AppendStoredTail(dst, b []byte) []byte {
	if len(b) == 0 {
		return dst
	}
	n := min(len(b), maxStored)
	dst = appendStoredLen(dst, n) // the length of z's open block
	dst = append(dst, b[:n]...)
	dst = AppendStored(dst, b[n:])
	return append(dst, 0x00) // a last empty stored block; its 00 00 ff ff is left out
}

// appendStoredLen appends LEN and NLEN of a stored block of n bytes.
func appendStoredLen(dst []byte, n int) []byte {
	return append(dst, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
}
