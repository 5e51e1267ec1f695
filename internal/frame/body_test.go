package frame_test

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wsgate/wsgate/internal/frame"
	"github.com/wsgate/wsgate/ws/wsflate"
)

func TestBodyTwin(t *testing.T) {
	t.Parallel()
	codec, err := wsflate.New(wsflate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		codec *wsflate.Codec
		plain []byte
		twin  bool
	}{
		{"json", codec, jsonish(4096), true},
		{"64 KiB", codec, jsonish(64 << 10), true},
		{"at threshold", codec, jsonish(256), true},
		{"under threshold", codec, jsonish(255), false},
		{"empty", codec, nil, false},
		{"incompressible", codec, noise(4096), false},
		{"nil codec", nil, jsonish(4096), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hooks atomic.Int64
			b := frame.NewBody(tt.codec, tt.plain, func() { hooks.Add(1) })
			if b.Size() != len(tt.plain) || !bytes.Equal(b.Bytes(), tt.plain) {
				t.Fatalf("before the twin: size %d, %d plain bytes", b.Size(), len(b.Bytes()))
			}
			z := b.Deflated()
			if (len(z) > 0) != tt.twin {
				t.Fatalf("twin of %d bytes, want one: %v", len(z), tt.twin)
			}
			if b.Size() != len(tt.plain)+len(z) {
				t.Fatalf("size %d, want %d plain + %d twin", b.Size(), len(tt.plain), len(z))
			}
			want := int64(0)
			if tt.twin {
				want = 1
			}
			b.Deflated()
			if hooks.Load() != want {
				t.Fatalf("onDeflate called %d times, want %d", hooks.Load(), want)
			}
			if !tt.twin {
				return
			}
			if len(z) >= len(tt.plain) {
				t.Fatalf("twin %d bytes, plain %d", len(z), len(tt.plain))
			}
			got, err := codec.Inflate(nil, z, int64(len(tt.plain)))
			if err != nil || !bytes.Equal(got, tt.plain) {
				t.Fatalf("inflated %d bytes, %v", len(got), err)
			}
			if again := b.Deflated(); &again[0] != &z[0] {
				t.Fatal("second call built another twin")
			}
		})
	}
}

// TestBodySpliced checks the use a Body is made for: its twin between a
// head and a tail in stored blocks inflates to head + body + tail.
func TestBodySpliced(t *testing.T) {
	t.Parallel()
	var codec wsflate.Codec
	plain := jsonish(70 << 10)
	b := frame.NewBody(&codec, plain, nil)
	head, tail := []byte(`{"id":7,"result":`), []byte(`}`)
	msg := wsflate.AppendStored(nil, head)
	msg = append(msg, b.Deflated()...)
	msg = wsflate.AppendStoredTail(msg, tail)
	got, err := codec.Inflate(nil, msg, 1<<20)
	want := append(append(append([]byte{}, head...), plain...), tail...)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("inflated %d bytes, %v; want %d", len(got), err, len(want))
	}
}

// TestBodyDeflatedOnce races many goroutines to the twin of a fresh Body:
// exactly one compression runs, the hook runs once before anyone gets the
// twin, and everyone gets the same bytes.
func TestBodyDeflatedOnce(t *testing.T) {
	t.Parallel()
	for round := range 20 {
		var codec wsflate.Codec
		var hooked atomic.Bool
		b := frame.NewBody(&codec, jsonish(8192), func() { hooked.Store(true) })
		const n = 32
		got := make([][]byte, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				b.Size() // readers of the size race with the builder
				got[i] = b.Deflated()
				if !hooked.Load() {
					t.Error("twin returned before onDeflate ran")
				}
			})
		}
		close(start)
		wg.Wait()
		for i := range n {
			if len(got[i]) == 0 || &got[i][0] != &got[0][0] || len(got[i]) != len(got[0]) {
				t.Fatalf("round %d: goroutine %d got another twin", round, i)
			}
		}
		if st := codec.Stats(); st.Compressions != 1 || st.Compressed != 1 {
			t.Fatalf("round %d: %+v, want exactly one compression", round, st)
		}
	}
}

func TestBodyNoAllocsOnceBuilt(t *testing.T) {
	var codec wsflate.Codec
	b := frame.NewBody(&codec, jsonish(4096), nil)
	b.Deflated()
	if n := testing.AllocsPerRun(100, func() { b.Deflated() }); n != 0 {
		t.Fatalf("%v allocations per call", n)
	}
}
