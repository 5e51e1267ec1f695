package wsflate

import (
	"bytes"
	stdflate "compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/klauspost/compress/flate"
)

// jsonish returns n bytes of compressible text shaped like the JSON
// publications wsgate sends.
func jsonish(n int) []byte {
	b := make([]byte, 0, n+128)
	for i := 0; len(b) < n; i++ {
		b = append(b, `{"ch":"ticks","seq":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"data":{"symbol":"SYM`...)
		b = strconv.AppendInt(b, int64(i%13), 10)
		b = append(b, `","price":`...)
		b = strconv.AppendFloat(b, 100+float64(i*37%1000)/7, 'f', -1, 64)
		b = append(b, `,"venue":"XNYS"}},`...)
	}
	return b[:n]
}

// random returns n incompressible bytes, the same for the same seed.
func random(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	_, _ = r.Read(b)
	return b
}

// stdInflate decompresses a permessage-deflate payload with the standard
// library's decoder.
func stdInflate(z []byte) ([]byte, error) {
	r := stdflate.NewReader(io.MultiReader(bytes.NewReader(z), bytes.NewReader([]byte(tail))))
	defer r.Close()
	return io.ReadAll(r)
}

// kpInflate decompresses with a fresh klauspost decoder, outside the
// Codec's pool.
func kpInflate(z []byte) ([]byte, error) {
	r := flate.NewReader(io.MultiReader(bytes.NewReader(z), bytes.NewReader([]byte(tail))))
	defer r.Close()
	return io.ReadAll(r)
}

var sizes = []int{0, 1, 255, 256, 257, 1000, 4096, 64 << 10, 1 << 20}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	levels := []Level{0, 5, LevelBest, LevelHuffmanOnly}
	for _, level := range levels {
		c, err := New(Options{Level: level})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []Window{WindowFull, WindowSmall} {
			for _, size := range sizes {
				if size > 64<<10 && level != 0 {
					continue // 1 MiB at the default level only: slow under -race
				}
				for _, kind := range []string{"json", "random"} {
					name := fmt.Sprintf("level%d/%v/%s/%d", level, w, kind, size)
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						msg := jsonish(size)
						if kind == "random" {
							msg = random(size, uint64(size))
						}
						roundTrip(t, c, msg, w, level)
					})
				}
			}
		}
	}
}

func roundTrip(t *testing.T, c *Codec, msg []byte, w Window, level Level) {
	t.Helper()
	orig := bytes.Clone(msg)
	prefix := []byte("prefix")
	z, ok := c.Deflate(bytes.Clone(prefix), msg, w)
	if !bytes.Equal(msg, orig) {
		t.Fatal("Deflate changed its input")
	}
	if !bytes.HasPrefix(z, prefix) {
		t.Fatal("Deflate lost dst's content")
	}
	z = z[len(prefix):]
	switch {
	case len(msg) < DefaultThreshold:
		if ok || len(z) != 0 {
			t.Fatalf("%d bytes below the threshold compressed", len(msg))
		}
		return
	case !ok:
		if len(z) != 0 {
			t.Fatal("not ok but dst grew")
		}
		// Only incompressible data may be refused; check it really is.
		if full, _ := kpDeflate(msg, int(c.opts.level())); len(full) < len(msg) && level != LevelHuffmanOnly {
			t.Fatalf("refused %d bytes that compress to %d", len(msg), len(full))
		}
		return
	}
	if len(z) >= len(msg) {
		t.Fatalf("ok with %d bytes for a %d-byte message", len(z), len(msg))
	}
	got, err := c.Inflate([]byte("x"), z, int64(len(msg)))
	if err != nil || !bytes.Equal(got[1:], msg) || got[0] != 'x' {
		t.Fatalf("Inflate: %d bytes, %v", len(got), err)
	}
	if _, err := c.Inflate(nil, z, int64(len(msg)-1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Inflate with limit one short: %v", err)
	}
	for name, dec := range map[string]func([]byte) ([]byte, error){"compress/flate": stdInflate, "klauspost": kpInflate} {
		if got, err := dec(z); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("%s: %d bytes, %v", name, len(got), err)
		}
	}
	got, st, err := inspect(append(bytes.Clone(z), trailer...))
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("inspect: %d bytes, %v", len(got), err)
	}
	if w == WindowSmall && st.maxDist > smallWindow {
		t.Fatalf("small window stream refers %d bytes back", st.maxDist)
	}
	if level == LevelHuffmanOnly && st.matches != 0 {
		t.Fatalf("Huffman-only stream has %d matches", st.matches)
	}
}

// kpDeflate compresses msg with a fresh klauspost writer and the RFC 7692
// trailer removed.
func kpDeflate(msg []byte, level int) ([]byte, error) {
	var b bytes.Buffer
	fw, err := flate.NewWriter(&b, level)
	if err != nil {
		return nil, err
	}
	if _, err := fw.Write(msg); err != nil {
		return nil, err
	}
	if err := fw.Flush(); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte(trailer)), nil
}

// TestInflateOtherEncoders inflates what other senders produce: the
// standard library at several levels (stored blocks at level 0), a stream
// closed with a final block (RFC 7692 §7.2.3.3), and hand-made payloads.
func TestInflateOtherEncoders(t *testing.T) {
	t.Parallel()
	msg := jsonish(10000)
	std := func(level int, closeIt bool) []byte {
		var b bytes.Buffer
		w, err := stdflate.NewWriter(&b, level)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(msg)
		if closeIt {
			_ = w.Close()
			return b.Bytes()
		}
		_ = w.Flush()
		return bytes.TrimSuffix(b.Bytes(), []byte(trailer))
	}
	var c Codec
	tests := []struct {
		name string
		z    []byte
		want []byte
	}{
		{"std level 1", std(1, false), msg},
		{"std level 9", std(9, false), msg},
		{"std stored", std(0, false), msg},
		{"std huffman only", std(stdflate.HuffmanOnly, false), msg},
		{"final block", std(6, true), msg},
		{"final block and junk", append(std(6, true), 0x00, 0x42), msg},
		{"empty payload", nil, nil},
		{"empty fixed block", []byte{0x02, 0x00}, nil},
		{"empty stored block", []byte{0x00}, nil},
		{"fixed block literals", fixedLiterals("hi"), []byte("hi")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.Inflate(nil, tt.z, 1<<20)
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Fatalf("got %q (%d bytes), %v", got[:min(len(got), 20)], len(got), err)
			}
		})
	}
}

func TestInflateCorrupt(t *testing.T) {
	t.Parallel()
	valid, _ := kpDeflate(jsonish(5000), 1)
	tests := []struct {
		name string
		z    []byte
	}{
		{"reserved block type", []byte{0x07}},
		{"stored length mismatch", []byte{0x01, 0x05, 0x00, 0x00, 0x00}},
		{"stored block longer than the data", []byte{0x00, 0x10, 0x00, 0xef, 0xff, 'a'}},
		{"distance before start", fixedBlock(t, []int{257}, []int{0})},
		{"truncated", valid[:len(valid)/2]},
		{"garbage", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	}
	var c Codec
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dst := []byte("keep")
			got, err := c.Inflate(dst, tt.z, 1<<20)
			if !errors.Is(err, ErrCorrupt) || string(got) != "keep" {
				t.Fatalf("got %d bytes, %v; want ErrCorrupt", len(got), err)
			}
		})
	}
	// The pooled decompressor works after a failure.
	msg := jsonish(5000)
	if got, err := c.Inflate(nil, valid, 1<<20); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("after corrupt input: %v", err)
	}
}

// fixedBlock writes a final fixed-Huffman block with the given length
// symbols (257-285, no extra bits used here) each followed by a distance
// code, and no literals.
func fixedBlock(t *testing.T, lens, dists []int) []byte {
	t.Helper()
	var w bitWriter
	w.bits(1, 1) // BFINAL
	w.bits(1, 2) // fixed Huffman
	for i, l := range lens {
		if l < 257 || l > 279 {
			t.Fatal("fixedBlock handles 7-bit length codes only")
		}
		w.code(l-256, 7)
		w.code(dists[i], 5)
	}
	w.code(0, 7) // end of block
	return w.b
}

// fixedLiterals writes a non-final fixed-Huffman block of the bytes of s
// (all below 144, so their codes are 8 bits: 0x30 + byte).
func fixedLiterals(s string) []byte {
	var w bitWriter
	w.bits(0, 1)
	w.bits(1, 2)
	for i := range len(s) {
		w.code(0x30+int(s[i]), 8)
	}
	w.code(0, 7)
	return w.b
}

type bitWriter struct {
	b []byte
	n int // bits used in the last byte
}

// bits writes the n low bits of v, least significant first.
func (w *bitWriter) bits(v, n int) {
	for i := range n {
		if w.n == 0 {
			w.b = append(w.b, 0)
		}
		w.b[len(w.b)-1] |= byte(v>>i&1) << w.n
		w.n = (w.n + 1) % 8
	}
}

// code writes a Huffman code of n bits, most significant bit first.
func (w *bitWriter) code(v, n int) {
	for i := n - 1; i >= 0; i-- {
		w.bits(v>>i&1, 1)
	}
}

// TestDeflateAfterAbort checks that a compressor stopped early on
// incompressible input is reset before it serves the next message.
func TestDeflateAfterAbort(t *testing.T) {
	t.Parallel()
	var c Codec
	noise := random(200_000, 7)
	msg := jsonish(50_000)
	for range 5 {
		if _, ok := c.Deflate(nil, noise, WindowFull); ok {
			t.Fatal("random data compressed")
		}
		z, ok := c.Deflate(nil, msg, WindowFull)
		if !ok {
			t.Fatal("json not compressed")
		}
		if got, err := stdInflate(z); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("after an aborted message: %v", err)
		}
	}
	st := c.Stats()
	if st.Compressions != 10 || st.Compressed != 5 || st.BytesIn != 5*50_000 || st.BytesOut == 0 || st.BytesOut >= st.BytesIn {
		t.Fatalf("stats %+v", st)
	}
}

func TestThreshold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		threshold, size int
		ok              bool
	}{
		{0, 255, false}, {0, 256, true}, {0, 257, true},
		{1, 0, false}, {1, 40, true}, {1000, 999, false}, {1000, 1000, true},
	}
	for _, tt := range tests {
		c, err := New(Options{Threshold: tt.threshold})
		if err != nil {
			t.Fatal(err)
		}
		msg := bytes.Repeat([]byte("a"), tt.size)
		if _, ok := c.Deflate(nil, msg, WindowFull); ok != tt.ok {
			t.Errorf("threshold %d, size %d: ok=%v", tt.threshold, tt.size, ok)
		}
		if _, ok := c.Deflate(nil, msg, Window(9)); ok {
			t.Error("unknown window compressed")
		}
	}
}
