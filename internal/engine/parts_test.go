package engine_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/internal/frame"
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
			return c.WriteParts(ws.OpText, splitIn(msg)...)
		}
		url := serve(t, e, func() engine.Handler {
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
			before := e.Stats()
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
			after := e.Stats()
			if z := after.FramesDeflated - before.FramesDeflated; (z == 20) != compress || (z == 0) == compress {
				t.Fatalf("compress %v: %d of 20 replies sent compressed", compress, z)
			}
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
			name  string
			op    ws.Opcode
			parts [][]byte
		}{
			{"control frame", ws.OpPing, [][]byte{part}},
			{"too many parts", ws.OpBinary, bytes.SplitAfter(bytes.Repeat(part, 9), part)},
		}
		for _, tt := range tests {
			if err := c.WriteParts(tt.op, tt.parts...); !errors.Is(err, engine.ErrParts) {
				t.Errorf("%s: got %v, want ErrParts", tt.name, err)
			}
		}
		if err := c.WriteWrapped(ws.OpClose, nil, frame.NewBody(nil, part, nil), nil); !errors.Is(err, engine.ErrParts) {
			t.Errorf("WriteWrapped of a control frame: got %v, want ErrParts", err)
		}
		// Nothing was sent: the next message is the first the peer sees.
		if err := c.WriteParts(ws.OpBinary, []byte("a"), nil, []byte("bc")); err != nil {
			t.Fatal(err)
		}
		cl.SetReadDeadline(time.Now().Add(5 * time.Second))
		op, got, err := cl.ReadMessage()
		if err != nil || op != websocket.BinaryMessage || string(got) != "abc" {
			t.Fatalf("got %q type %d, %v; want abc", got, op, err)
		}
	})
}

// TestWriteWrapped sends messages made of a per-message head, a shared
// frame.Body and a tail on connections that negotiated each kind of
// compression, from OnMessage (epoll: batched) and from another goroutine
// (epoll: written at once). The peer inflates with compress/flate. With
// the full window and no context, every reply is built from the body's
// one compression; a small window or context takeover compresses each
// reply.
func TestWriteWrapped(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		codec := newTakeoverCodec(t, 8)
		e := engine.New(engine.Options{Kind: kind, Codec: codec})
		opened := make(chan *engine.Conn, 1)
		// Set before each connection is dialled: the body, and the head
		// and tail of message i.
		type wrapping struct {
			body   *frame.Body
			around func(i int) (head, tail []byte)
		}
		var cur atomic.Pointer[wrapping]
		url := serve(t, e, func() engine.Handler {
			return funcs{
				open: func(c *engine.Conn) { opened <- c },
				message: func(c *engine.Conn, _ ws.Opcode, p []byte) {
					i, _ := strconv.Atoi(string(p))
					w := cur.Load()
					h, tl := w.around(i)
					if err := c.WriteWrapped(ws.OpBinary, h, w.body, tl); err != nil {
						t.Errorf("WriteWrapped: %v", err)
					}
				},
			}
		})
		const noContext = "permessage-deflate; server_no_context_takeover"
		big := bytes.Repeat([]byte("h"), 70<<10)
		tests := []struct {
			name        string
			offer       string
			plain       []byte
			head, tail  []byte // nil: {"id":i,"result": and }
			compressed  bool
			compression int // compressions for the 6 replies
		}{
			{"none", "", takeoverMessage(1, 40), nil, nil, false, 0},
			{"full window", noContext, takeoverMessage(1, 40), nil, nil, true, 1},
			{"full window, short body", noContext, []byte(`{"a":1}`), nil, nil, false, 0},
			{"full window, incompressible body", noContext, noise(2000), nil, nil, false, 1},
			{"full window, large head and tail", noContext, takeoverMessage(2, 40), big, big, true, 1},
			{"full window, no head nor tail", noContext, takeoverMessage(3, 40), []byte{}, []byte{}, true, 1},
			{"small window", noContext + "; server_max_window_bits=10", takeoverMessage(1, 40), nil, nil, true, 6},
			{"context takeover", takeoverOffer, takeoverMessage(1, 40), nil, nil, true, 6},
		}
		for _, tt := range tests {
			w := &wrapping{body: frame.NewBody(codec, tt.plain, nil), around: func(i int) ([]byte, []byte) {
				if tt.head != nil {
					return tt.head, tt.tail
				}
				return fmt.Appendf(nil, `{"id":%d,"result":`, i), []byte("}")
			}}
			cur.Store(w)
			p := dialOffer(t, url, tt.offer)
			c := <-opened
			before := codec.Stats().Compressions
			for i := range 6 {
				h, tl := w.around(i)
				if i%2 == 0 {
					p.nc.Write(ws.AppendMaskedFrame(nil, ws.OpText, true, 0, ws.NewMaskKey(), []byte(strconv.Itoa(i))))
				} else if err := c.WriteWrapped(ws.OpBinary, h, w.body, tl); err != nil {
					t.Fatalf("%s: WriteWrapped: %v", tt.name, err)
				}
				op, msg, _, z := p.next()
				want := slices.Concat(h, tt.plain, tl)
				if op != ws.OpBinary || !bytes.Equal(msg, want) || z != tt.compressed {
					t.Fatalf("%s, reply %d: %d bytes, compressed %v; want %d bytes, compressed %v", tt.name, i, len(msg), z, len(want), tt.compressed)
				}
			}
			if n := codec.Stats().Compressions - before; n != uint64(tt.compression) {
				t.Errorf("%s: %d compressions, want %d", tt.name, n, tt.compression)
			}
			p.close()
		}
	})
}

// noise is n bytes that do not compress.
func noise(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(b)
	return b
}
