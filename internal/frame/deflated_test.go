package frame_test

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/wsgate/wsgate/internal/frame"
	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

func jsonish(n int) []byte {
	b := make([]byte, 0, n+64)
	for i := 0; len(b) < n; i++ {
		b = append(b, `{"ch":"ticks","seq":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"data":{"symbol":"ACME","price":`...)
		b = strconv.AppendInt(b, int64(100+i%17), 10)
		b = append(b, "}},"...)
	}
	return b[:n]
}

func noise(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(b)
	return b
}

func TestDeflatedTwin(t *testing.T) {
	t.Parallel()
	codec, err := wsflate.New(wsflate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		p       *frame.Prepared
		payload []byte
		twin    bool
	}{
		{"plain New", frame.New(ws.OpText, jsonish(4096)), jsonish(4096), false},
		{"nil codec", frame.NewDeflatable(nil, ws.OpText, jsonish(4096)), jsonish(4096), false},
		{"text", frame.NewDeflatable(codec, ws.OpText, jsonish(4096)), jsonish(4096), true},
		{"binary 64 KiB", frame.NewDeflatable(codec, ws.OpBinary, jsonish(64<<10)), jsonish(64 << 10), true},
		{"at threshold", frame.NewDeflatable(codec, ws.OpText, jsonish(256)), jsonish(256), true},
		{"under threshold", frame.NewDeflatable(codec, ws.OpText, jsonish(255)), jsonish(255), false},
		{"empty", frame.NewDeflatable(codec, ws.OpText, nil), nil, false},
		{"incompressible", frame.NewDeflatable(codec, ws.OpBinary, noise(4096)), noise(4096), false},
		{"control frame", frame.NewDeflatable(codec, ws.OpPing, jsonish(125)), jsonish(125), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, w := range []wsflate.Window{wsflate.WindowFull, wsflate.WindowSmall} {
				z := tt.p.Deflated(w)
				if (z != nil) != tt.twin {
					t.Fatalf("%v: twin %v, want %v", w, z != nil, tt.twin)
				}
				if !bytes.Equal(tt.p.Payload(), tt.payload) {
					t.Fatal("plain payload changed")
				}
				if z == nil {
					continue
				}
				h, n, err := ws.ParseHeader(z)
				if err != nil || n == 0 || !h.Fin || h.Rsv != ws.Rsv1 || h.Opcode != tt.p.Opcode() || h.Masked || h.Length != int64(len(z)-n) {
					t.Fatalf("%v: header %+v n=%d err=%v", w, h, n, err)
				}
				if len(z) >= tt.p.Len() {
					t.Fatalf("%v: twin %d bytes, plain %d", w, len(z), tt.p.Len())
				}
				got, err := codec.Inflate(nil, z[n:], int64(len(tt.payload)))
				if err != nil || !bytes.Equal(got, tt.payload) {
					t.Fatalf("%v: inflated %d bytes, %v", w, len(got), err)
				}
				if again := tt.p.Deflated(w); &again[0] != &z[0] {
					t.Fatalf("%v: second call built another twin", w)
				}
			}
			if tt.p.Deflated(wsflate.Window(7)) != nil {
				t.Fatal("twin for an unknown window")
			}
		})
	}
}

// BenchmarkFanOut sends one 4 KB JSON publication to 1000 deflate
// connections: one compression, then a shared twin per connection.
func BenchmarkFanOut(b *testing.B) {
	var codec wsflate.Codec
	msg := jsonish(4096)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		p := frame.NewDeflatable(&codec, ws.OpText, msg)
		for range 1000 {
			if p.Deflated(wsflate.WindowFull) == nil {
				b.Fatal("no twin")
			}
		}
	}
}
