package ws

import (
	"bytes"
	"strconv"
	"testing"
)

// maskSlow is the byte-at-a-time definition of RFC 6455 §5.3.
func maskSlow(key [4]byte, pos int, b []byte) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

func TestMaskBytes(t *testing.T) {
	t.Parallel()
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	for n := 0; n <= 100; n++ {
		for pos := range 4 {
			in := make([]byte, n)
			for i := range in {
				in[i] = byte(i*7 + 1)
			}
			got, want := bytes.Clone(in), bytes.Clone(in)
			gp, wp := MaskBytes(key, pos, got), maskSlow(key, pos, want)
			if gp != wp || !bytes.Equal(got, want) {
				t.Fatalf("n %d pos %d: got %x %d, want %x %d", n, pos, got, gp, want, wp)
			}
		}
	}
}

func TestMaskBytesInPieces(t *testing.T) {
	t.Parallel()
	key := [4]byte{0xA1, 0xB2, 0xC3, 0xD4}
	in := make([]byte, 300)
	for i := range in {
		in[i] = byte(i)
	}
	want := bytes.Clone(in)
	maskSlow(key, 0, want)
	for _, cut := range []int{1, 3, 7, 8, 13, 33, 64, 299} {
		got := bytes.Clone(in)
		pos := 0
		for i := 0; i < len(got); i += cut {
			pos = MaskBytes(key, pos, got[i:min(i+cut, len(got))])
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("pieces of %d differ", cut)
		}
		// Masking twice restores the input.
		MaskBytes(key, 0, got)
		if !bytes.Equal(got, in) {
			t.Fatalf("pieces of %d: not an involution", cut)
		}
	}
}

func TestNewMaskKey(t *testing.T) {
	t.Parallel()
	seen := map[[4]byte]bool{}
	for range 16 {
		seen[NewMaskKey()] = true
	}
	if len(seen) < 15 {
		t.Fatalf("only %d distinct keys in 16", len(seen))
	}
}

func BenchmarkMaskBytes(b *testing.B) {
	key := [4]byte{1, 2, 3, 4}
	for _, n := range []int{1 << 10, 64 << 10} {
		buf := make([]byte, n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				MaskBytes(key, 1, buf)
			}
		})
	}
}
