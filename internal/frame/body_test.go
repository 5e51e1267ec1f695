package frame_test

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wsgate/wsgate/internal/frame"
	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

func TestBodyTwin(t *testing.T) {
	t.Parallel()
	codec := new(wsflate.Codec) // the zero Codec has the default options
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

// twinKinds build a fresh Prepared or Body of 8 KiB of JSON and return
// the function that asks for its full-window twin. A Body's checks that
// onDeflate has run before anyone gets the twin.
var twinKinds = []struct {
	name string
	twin func(t *testing.T, c *wsflate.Codec) func() []byte
}{
	{"prepared", func(_ *testing.T, c *wsflate.Codec) func() []byte {
		p := frame.NewDeflatable(c, ws.OpText, jsonish(8192))
		return func() []byte { return p.Deflated(wsflate.WindowFull) }
	}},
	{"body", func(t *testing.T, c *wsflate.Codec) func() []byte {
		var hooked atomic.Bool
		b := frame.NewBody(c, jsonish(8192), func() { hooked.Store(true) })
		return func() []byte {
			b.Size() // readers of the size race with the builder
			z := b.Deflated()
			if !hooked.Load() {
				t.Error("twin returned before onDeflate ran")
			}
			return z
		}
	}},
}

// TestTwinBuiltOnce races many goroutines to the twin of a fresh
// Prepared and of a fresh Body: exactly one compression runs and everyone
// gets the same bytes.
func TestTwinBuiltOnce(t *testing.T) {
	t.Parallel()
	for _, k := range twinKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			for round := range 20 {
				var codec wsflate.Codec
				twin := k.twin(t, &codec)
				const n = 32
				got := make([][]byte, n)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						<-start
						got[i] = twin()
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
		})
	}
}

// TestTwinNoAllocsOnceBuilt is not parallel: AllocsPerRun counts every
// goroutine's allocations.
func TestTwinNoAllocsOnceBuilt(t *testing.T) {
	for _, k := range twinKinds {
		var codec wsflate.Codec
		twin := k.twin(t, &codec)
		twin()
		if n := testing.AllocsPerRun(100, func() { twin() }); n != 0 {
			t.Fatalf("%s: %v allocations per call once built", k.name, n)
		}
	}
}
