package wsflate

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzInflate feeds arbitrary payloads to Inflate: it never panics, never
// returns more than the limit, fails only with ErrCorrupt or ErrTooLarge,
// and agrees with the standard library's decoder when both succeed. The
// same bytes, taken as a message, must survive Deflate and Inflate.
func FuzzInflate(f *testing.F) {
	small, _ := kpDeflate(jsonish(3000), 1)
	f.Add(small, uint32(1<<20))
	f.Add(small, uint32(100))
	f.Add(bomb(f, 1), uint32(5000))
	f.Add([]byte{0x07}, uint32(10))
	f.Add([]byte{0x02, 0x00}, uint32(10))
	f.Add(fixedLiterals("hello"), uint32(3))
	f.Add([]byte{0x00, 0x10, 0x00, 0xef, 0xff, 'a'}, uint32(100))
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
			if want, err := stdInflate(z); err == nil && !bytes.Equal(want, got[1:]) {
				t.Fatalf("compress/flate inflates %d bytes, Inflate %d", len(want), len(got)-1)
			}
		case errors.Is(err, ErrCorrupt), errors.Is(err, ErrTooLarge):
			if len(got) != 1 || got[0] != 'p' {
				t.Fatalf("dst not restored on error: %d bytes", len(got))
			}
		default:
			t.Fatalf("unexpected error %v", err)
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
