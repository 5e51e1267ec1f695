package engine_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// splitIn cuts b into three parts at a third and two thirds.
func splitIn(b []byte) [][]byte {
	i, j := len(b)/3, 2*len(b)/3
	return [][]byte{b[:i], b[i:j], b[j:]}
}

// TestWriteParts sends replies made of parts, plain and deflated, from
// OnMessage (epoll: batched) and from another goroutine (epoll: written
// at once), and checks the peer reads each whole message.
func TestWriteParts(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		codec, err := wsflate.New(wsflate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		e := engine.New(engine.Options{Kind: kind, Codec: codec})
		opened := make(chan *engine.Conn, 1)
		reply := func(c *engine.Conn, msg []byte) error {
			if w, ok := c.ServerWindow(); ok {
				z, ok := codec.Deflate(nil, msg, w)
				if !ok {
					t.Errorf("%d bytes did not compress", len(msg))
				}
				return c.WriteParts(ws.OpText, true, splitIn(z)...)
			}
			return c.WriteParts(ws.OpText, false, splitIn(msg)...)
		}
		url := serveUpgrade(t, e, func() engine.Handler {
			return funcs{
				open: func(c *engine.Conn) { opened <- c },
				message: func(c *engine.Conn, op ws.Opcode, p []byte) {
					if err := reply(c, bytes.Repeat(p, 100)); err != nil {
						t.Errorf("WriteParts: %v", err)
					}
				},
			}
		})
		for _, compress := range []bool{false, true} {
			d := websocket.Dialer{EnableCompression: compress}
			cl, resp, err := d.Dial(url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Header.Get("Sec-WebSocket-Extensions") != ""; got != compress {
				t.Fatalf("compress %v: extensions %q", compress, resp.Header.Get("Sec-WebSocket-Extensions"))
			}
			c := <-opened
			if _, ok := c.ServerWindow(); ok != compress {
				t.Fatalf("compress %v: ServerWindow ok %v", compress, ok)
			}
			for i := range 20 {
				msg := []byte(strings.Repeat("hello parts ", i+1))
				if i%2 == 0 {
					cl.WriteMessage(websocket.TextMessage, msg)
				} else if err := reply(c, bytes.Repeat(msg, 100)); err != nil {
					t.Fatalf("WriteParts: %v", err)
				}
				cl.SetReadDeadline(time.Now().Add(5 * time.Second))
				op, got, err := cl.ReadMessage()
				if err != nil {
					t.Fatalf("compress %v, message %d: %v", compress, i, err)
				}
				if op != websocket.TextMessage || !bytes.Equal(got, bytes.Repeat(msg, 100)) {
					t.Fatalf("compress %v, message %d: got %d bytes, type %d", compress, i, len(got), op)
				}
			}
			cl.Close()
		}
	})
}

func TestWritePartsRejects(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		e := engine.New(engine.Options{Kind: kind})
		opened := make(chan *engine.Conn, 1)
		url := serve(t, e, func() engine.Handler { return funcs{open: func(c *engine.Conn) { opened <- c }} })
		cl, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		c := <-opened
		part := []byte("x")
		tests := []struct {
			name     string
			op       ws.Opcode
			deflated bool
			parts    [][]byte
		}{
			{"deflated without deflate", ws.OpText, true, [][]byte{part}},
			{"control frame", ws.OpPing, false, [][]byte{part}},
			{"too many parts", ws.OpBinary, false, bytes.SplitAfter(bytes.Repeat(part, 9), part)},
		}
		for _, tt := range tests {
			if err := c.WriteParts(tt.op, tt.deflated, tt.parts...); !errors.Is(err, engine.ErrParts) {
				t.Errorf("%s: got %v, want ErrParts", tt.name, err)
			}
		}
		// Nothing was sent: the next message is the first the peer sees.
		if err := c.WriteParts(ws.OpBinary, false, []byte("a"), nil, []byte("bc")); err != nil {
			t.Fatal(err)
		}
		cl.SetReadDeadline(time.Now().Add(5 * time.Second))
		op, got, err := cl.ReadMessage()
		if err != nil || op != websocket.BinaryMessage || string(got) != "abc" {
			t.Fatalf("got %q type %d, %v; want abc", got, op, err)
		}
	})
}
