package wsflate

import (
	"bytes"
	"errors"
	"runtime"
	"testing"
	"time"
)

// bomb returns a permessage-deflate payload that inflates to segments MiB
// of zeros: one sync-flushed compression of 1 MiB of zeros (about 1 KB),
// repeated (each copy is byte-aligned and refers back only to zeros), with
// the trailer removed once at the end. DEFLATE cannot expand more than
// about 1032:1, so a 1 GiB bomb is about 1 MB; a 1 KB payload inflates to
// about 1 MB.
func bomb(t testing.TB, segments int) []byte {
	t.Helper()
	seg, err := kpDeflate(make([]byte, 1<<20), 1)
	if err != nil {
		t.Fatal(err)
	}
	seg = append(seg, trailer...)
	out := bytes.Repeat(seg, segments)
	return out[:len(out)-len(trailer)]
}

// TestInflateBomb is not parallel: it measures allocations with
// runtime.MemStats, which other tests running at once would disturb.
func TestInflateBomb(t *testing.T) {
	tests := []struct {
		name     string
		segments int // MiB inflated
		limit    int64
	}{
		{"1 KB to 1 MiB, limit 64 KiB", 1, 64 << 10},
		{"1 MB to 1 GiB, limit 1 MiB", 1024, 1 << 20},
		{"1 MB to 1 GiB, limit 0", 1024, 0},
		{"just over the limit", 1, 1<<20 - 1},
	}
	var c Codec
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := bomb(t, tt.segments)
			t.Logf("payload %d bytes, inflates to %d", len(z), tt.segments<<20)
			// dst has spare room far beyond the limit, filled with 0xAA: the
			// bytes Inflate writes are zeros, so the untouched tail shows how
			// much output it produced.
			room := int(tt.limit) + 4<<20
			dst := bytes.Repeat([]byte{0xAA}, room)[:0]
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			got, err := c.Inflate(dst, z, tt.limit)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrTooLarge) || len(got) != 0 {
				t.Fatalf("got %d bytes, %v; want ErrTooLarge", len(got), err)
			}
			full := dst[:room]
			written := bytes.IndexByte(full, 0xAA)
			if written < 0 || int64(written) > tt.limit {
				t.Fatalf("%d bytes written into dst, limit %d", written, tt.limit)
			}
			if len(bytes.Trim(full[written:], "\xAA")) != 0 {
				t.Fatal("bytes written past the limit")
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("produced %d bytes (limit %d) in %v, %d bytes allocated", written, tt.limit, elapsed, alloc)
			if alloc > 1<<20 { // a pooled decompressor at most, no output buffers
				t.Errorf("allocated %d bytes", alloc)
			}
		})
	}
}

// TestInflateLimitGrowth checks the limit when Inflate has to allocate its
// output: the buffer never grows past the limit. Not parallel, as it
// measures allocations.
func TestInflateLimitGrowth(t *testing.T) {
	var c Codec
	z := bomb(t, 1024) // 1 GiB
	const limit = 3 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := c.Inflate(nil, z, limit)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) || len(got) != 0 {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
	// Output buffers double from 4 × 1 MB up to the limit: at most about
	// twice the limit in total, plus the pooled decompressor.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 3*limit {
		t.Fatalf("allocated %d bytes for a %d-byte limit", alloc, limit)
	}
	// A message exactly at the limit passes.
	msg := jsonish(limit)
	z, ok := c.Deflate(nil, msg, WindowFull)
	if !ok {
		t.Fatal("not compressed")
	}
	if got, err := c.Inflate(nil, z, limit); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("at the limit: %d bytes, %v", len(got), err)
	}
	if _, err := c.Inflate(nil, z, -5); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("negative limit: %v", err)
	}
}
