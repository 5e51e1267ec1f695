package wsflate

import (
	"bytes"
	stdflate "compress/flate"
	"errors"
	"io"
	"testing"
)

// FuzzInflate compares Inflate with the standard library's decoder,
// which shares no code with it: on every payload they agree on accepting
// and rejecting it, and when they accept, on the message (below the
// limit; above it Inflate must report ErrTooLarge). Inflate never
// returns more than the limit and fails only with ErrCorrupt or
// ErrTooLarge. The same bytes, taken as a message, must survive Deflate
// and Inflate.
func FuzzInflate(f *testing.F) {
	small, _ := kpDeflate(jsonish(3000), 1)
	f.Add(small, uint32(1<<20))
	f.Add(small, uint32(100))
	f.Add(bomb(f, 1), uint32(5000))
	f.Add([]byte{0x07}, uint32(10))
	f.Add([]byte{0x02, 0x00}, uint32(10))
	f.Add(fixedLiterals("hello"), uint32(3))
	f.Add([]byte{0x00, 0x10, 0x00, 0xef, 0xff, 'a'}, uint32(100))
	f.Add(small[:len(small)/2], uint32(1<<20))                               // truncated mid-block
	f.Add([]byte{0x03, 0x00, 0xff}, uint32(10))                              // a final block, then bytes that are ignored
	f.Add(append([]byte{0x00, 0x03, 0x00, 0xfc, 0xff}, "abc"...), uint32(3)) // a stored block of exactly the limit
	var c Codec
	f.Fuzz(func(t *testing.T, z []byte, l uint32) {
		limit := int64(l % (4 << 20))
		got, err := c.Inflate([]byte{'p'}, z, limit)
		switch {
		case err == nil:
			if int64(len(got)-1) > limit {
				t.Fatalf("%d bytes out, limit %d", len(got)-1, limit)
			}
			if got[0] != 'p' {
				t.Fatal("dst prefix changed")
			}
		case errors.Is(err, ErrCorrupt), errors.Is(err, ErrTooLarge):
			if len(got) != 1 || got[0] != 'p' {
				t.Fatalf("dst not restored on error: %d bytes", len(got))
			}
		default:
			t.Fatalf("unexpected error %v", err)
		}
		if len(z) > 0 { // an empty payload is an empty message by definition
			want, verdict := refInflate(z, limit)
			switch {
			case verdict == refAccept && (err != nil || !bytes.Equal(got[1:], want)):
				t.Fatalf("compress/flate inflates %d bytes; Inflate: %d bytes, %v", len(want), len(got)-1, err)
			case verdict == refTooLarge && !errors.Is(err, ErrTooLarge):
				t.Fatalf("compress/flate inflates more than %d bytes; Inflate: %d bytes, %v", limit, len(got)-1, err)
			case verdict == refReject && err == nil:
				t.Fatalf("compress/flate finds the stream invalid (it stops with %d bytes); Inflate accepts %d bytes", len(want), len(got)-1)
			}
		}

		for _, w := range []Window{WindowFull, WindowSmall} {
			d, ok := c.Deflate(nil, z, w)
			if !ok {
				continue
			}
			back, err := c.Inflate(nil, d, int64(len(z)))
			if err != nil || !bytes.Equal(back, z) {
				t.Fatalf("%v round trip of %d bytes: %d bytes, %v", w, len(z), len(back), err)
			}
		}
	})
}

// What refInflate concludes about a payload.
const (
	refAccept   = iota // a valid stream: the message is the output
	refReject          // not a valid stream
	refTooLarge        // it inflates to more than the limit
)

// refInflate inflates a permessage-deflate payload as RFC 7692 §7.2.2
// says, with the standard library's compress/flate: append 00 00 ff ff,
// decompress. A valid payload either reaches a final block, or ends at a
// block boundary once the trailer (the empty stored block's LEN and
// NLEN) is read; compress/flate then reports io.ErrUnexpectedEOF as it
// reads the next block header, exactly as it does for a stream cut
// inside a block. To tell the two apart the payload is decoded again
// with two different final blocks after the trailer, an empty stored one
// and an empty fixed-Huffman one: at a block boundary both end the
// stream with the same output, while inside a block they are read as
// more of that block. It reads at most limit+1 bytes of output.
func refInflate(z []byte, limit int64) ([]byte, int) {
	read := func(tails ...string) ([]byte, error) {
		s := append(append([]byte(nil), z...), "\x00\x00\xff\xff"...)
		for _, t := range tails {
			s = append(s, t...)
		}
		r := stdflate.NewReader(bytes.NewReader(s))
		defer r.Close()
		return io.ReadAll(io.LimitReader(r, limit+1))
	}
	out, err := read()
	switch {
	case int64(len(out)) > limit:
		return out, refTooLarge
	case err == nil:
		return out, refAccept // a final block
	case err != io.ErrUnexpectedEOF:
		return out, refReject
	}
	stored, errS := read("\x01\x00\x00\xff\xff")
	fixed, errF := read("\x03\x00")
	if errS == nil && errF == nil && bytes.Equal(stored, fixed) && bytes.Equal(stored, out) {
		return out, refAccept
	}
	return out, refReject
}
