package ws_test

import (
	"errors"
	"fmt"

	"github.com/wsgate/wsgate/ws"
)

// A server decodes what a client sent, in whatever pieces the bytes
// arrive: here a ping between two fragments of a text message, split in
// the middle of a frame.
func ExampleReader() {
	key := [4]byte{1, 2, 3, 4} // clients pick keys with ws.NewMaskKey
	var in []byte
	in = ws.AppendMaskedFrame(in, ws.OpText, false, 0, key, []byte("Hello, "))
	in = ws.AppendMaskedFrame(in, ws.OpPing, true, 0, key, []byte("are you there?"))
	in = ws.AppendMaskedFrame(in, ws.OpContinuation, true, 0, key, []byte("world"))

	r := ws.NewReader(ws.ReaderOptions{Role: ws.ServerSide, MaxMessageSize: 1 << 20})
	for _, b := range [][]byte{in[:10], in[10:]} {
		for len(b) > 0 {
			n, ev, err := r.Next(b)
			if err != nil {
				var pe *ws.ProtocolError
				if errors.As(err, &pe) {
					fmt.Println("close with", pe.Code) // send a Close frame, then close
				}
				return
			}
			b = b[n:]
			switch ev.Kind {
			case ws.EventMessage:
				fmt.Printf("%v message %q\n", ev.Opcode, ev.Payload)
			case ws.EventPing:
				fmt.Printf("ping %q\n", ev.Payload) // answer with a Pong
			}
		}
	}
	// Output:
	// ping "are you there?"
	// Text message "Hello, world"
}

func ExampleAcceptKey() {
	// The key and answer from RFC 6455, section 1.3.
	fmt.Println(ws.AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="))
	// Output: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
}

func ExampleAppendFrame() {
	buf := make([]byte, 0, 64) // reused from frame to frame
	buf = ws.AppendFrame(buf, ws.OpText, true, 0, []byte("Hello"))
	fmt.Printf("% x\n", buf)

	buf = ws.AppendFrame(buf[:0], ws.OpClose, true, 0, ws.AppendClosePayload(nil, ws.StatusGoingAway, "restart"))
	fmt.Printf("% x\n", buf)
	// Output:
	// 81 05 48 65 6c 6c 6f
	// 88 09 03 e9 72 65 73 74 61 72 74
}
