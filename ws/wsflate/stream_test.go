package wsflate

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

// joinStream concatenates compressed messages into the single DEFLATE
// stream a context-keeping peer decodes (each with its trailer restored).
func joinStream(zs ...[]byte) []byte {
	var b []byte
	for _, z := range zs {
		b = append(append(b, z...), trailer...)
	}
	return b
}

func TestStreamContextTakeover(t *testing.T) {
	t.Parallel()
	for _, w := range []Window{WindowFull, WindowSmall} {
		t.Run(w.String(), func(t *testing.T) {
			t.Parallel()
			c, err := New(Options{Mode: ModeContextTakeover})
			if err != nil {
				t.Fatal(err)
			}
			p := Params{ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}
			if w == WindowSmall {
				p.ServerMaxWindowBits = 9
			}
			s := c.NewStream(p)
			if s == nil {
				t.Fatal("no stream")
			}
			defer s.Close()
			msgs := [][]byte{jsonish(3000), jsonish(3000), random(3000, 1), jsonish(2000), []byte("short"), jsonish(4000)}
			var zs [][]byte
			var want []byte
			var sizes []int
			for i, m := range msgs {
				z, ok := s.Deflate(nil, m)
				if wantOK := i != 2 && i != 4; ok != wantOK {
					t.Fatalf("message %d: ok=%v", i, ok)
				}
				if ok {
					zs = append(zs, z)
					want = append(want, m...)
					sizes = append(sizes, len(z))
				}
			}
			// The second, identical message costs almost nothing: it refers
			// back into the first (only with the full window can it reach).
			if w == WindowFull && sizes[1]*4 > sizes[0] {
				t.Errorf("second message %d bytes, first %d: no context kept", sizes[1], sizes[0])
			}
			stream := joinStream(zs...)
			got, st, err := inspect(stream)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("inspect: %d bytes, %v", len(got), err)
			}
			if got, err := stdInflate(stream[:len(stream)-len(trailer)]); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("compress/flate: %d bytes, %v", len(got), err)
			}
			if w == WindowSmall && st.maxDist > smallWindow {
				t.Fatalf("distance %d", st.maxDist)
			}
			s.Close()
			if _, ok := s.Deflate(nil, msgs[0]); ok {
				t.Fatal("Deflate after Close")
			}
		})
	}
}

func TestWindowDistances(t *testing.T) {
	t.Parallel()
	var c Codec
	msg := jsonish(64 << 10)
	for _, tt := range []struct {
		w        Window
		min, max int
	}{{WindowFull, smallWindow + 1, 1 << 15}, {WindowSmall, 1, smallWindow}} {
		z, ok := c.Deflate(nil, msg, tt.w)
		if !ok {
			t.Fatal("not compressed")
		}
		_, st, err := inspect(append(z, trailer...))
		if err != nil || st.maxDist < tt.min || st.maxDist > tt.max {
			t.Fatalf("%v: longest distance %d, want %d to %d (%v)", tt.w, st.maxDist, tt.min, tt.max, err)
		}
		t.Logf("%v: %d bytes, %d matches, longest distance %d, blocks %+v", tt.w, len(z), st.matches, st.maxDist, st)
	}
}

// TestCodecConcurrent shares one Codec between goroutines that compress
// and inflate at once (run with -race).
func TestCodecConcurrent(t *testing.T) {
	t.Parallel()
	var c Codec
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 12 {
				size := 200 + (g*997+i*7919)%20000
				msg := jsonish(size)
				w := Window(i % 2)
				z, ok := c.Deflate(nil, msg, w)
				if !ok {
					continue
				}
				got, err := c.Inflate(nil, z, int64(size))
				if err != nil || !bytes.Equal(got, msg) {
					errs <- fmt.Errorf("goroutine %d message %d: %v", g, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := c.Stats(); st.Compressions == 0 || st.Inflations != st.Compressed {
		t.Fatalf("stats %+v", st)
	}
}
