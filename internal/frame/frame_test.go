package frame_test

import (
	"bytes"
	"testing"

	"github.com/wsgate/wsgate/internal/frame"
	"github.com/wsgate/wsgate/ws"
)

func TestPreparedIsOneValidFrame(t *testing.T) {
	t.Parallel()
	for _, size := range []int{0, 1, 125, 126, 65535, 65536} {
		payload := bytes.Repeat([]byte{'x'}, size)
		p := frame.New(ws.OpText, payload)
		if size > 0 {
			payload[0] = 'y'
		}
		h, n, err := ws.ParseHeader(p.Wire())
		if err != nil || n == 0 {
			t.Fatalf("size %d: header: n=%d err=%v", size, n, err)
		}
		if !h.Fin || h.Opcode != ws.OpText || h.Masked || h.Rsv != 0 || h.Length != int64(size) {
			t.Errorf("size %d: header %+v", size, h)
		}
		if n+size != p.Len() || !bytes.Equal(p.Wire()[n:], p.Payload()) {
			t.Errorf("size %d: wire is not header+payload", size)
		}
		if !bytes.Equal(p.Payload(), bytes.Repeat([]byte{'x'}, size)) {
			t.Errorf("size %d: payload changed with the caller's buffer", size)
		}
		if p.Opcode() != ws.OpText {
			t.Errorf("size %d: opcode %v", size, p.Opcode())
		}
	}
}
