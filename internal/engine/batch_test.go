package engine_test

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/ws"
)

// TestPipelinedRepliesAreBatched sends many messages in one TCP write;
// the epoll engine's replies, written by the handler on the loop, leave
// in order and in far fewer write system calls than messages, without
// tripping the slow-consumer limit when the batch is larger than it. The
// last message makes the handler close the connection: our Close frame
// follows every reply.
func TestPipelinedRepliesAreBatched(t *testing.T) {
	t.Parallel()
	if !engine.Epoll.Supported() {
		t.Skip("epoll is not supported here")
	}
	tests := []struct {
		name      string
		messages  int
		size      int // payload bytes, at least 4
		maxQueued int // Options.MaxQueuedBytes
		maxWrites uint64
	}{
		// One write per server read of up to 64 KiB, the Close frame
		// with the last replies.
		{"small", 500, 16, 0, 50},
		// A batch is flushed each time it would pass the limit: a write
		// per 8 KiB of replies at most.
		{"batch over the queue limit", 200, 1024, 8 << 10, 60},
		{"one", 1, 8, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := engine.New(engine.Options{Kind: engine.Epoll, MaxQueuedBytes: tt.maxQueued})
			closed := make(chan error, 1)
			url := serve(t, e, func() engine.Handler {
				return funcs{
					message: func(c *engine.Conn, op ws.Opcode, p []byte) {
						if err := c.WriteMessage(op, p); err != nil {
							t.Errorf("write: %v", err)
						}
						if int(binary.BigEndian.Uint32(p)) == tt.messages-1 {
							c.Close(ws.StatusNormalClosure, "done")
						}
					},
					close: func(_ *engine.Conn, err error) { closed <- err },
				}
			})
			nc, br, _, err := ws.Dial(context.Background(), url, ws.DialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			key := ws.NewMaskKey()
			var out []byte
			for i := range tt.messages {
				out = ws.AppendMaskedFrame(out, ws.OpBinary, true, 0, key, payload(i, tt.size))
			}
			if _, err := nc.Write(out); err != nil {
				t.Fatal(err)
			}
			r := ws.NewReader(ws.ReaderOptions{Role: ws.ClientSide})
			buf := make([]byte, 64<<10)
			next := 0
			nc.SetReadDeadline(time.Now().Add(10 * time.Second))
			for done := false; !done; {
				n, err := br.Read(buf)
				if err != nil {
					t.Fatalf("read after %d replies: %v", next, err)
				}
				for b := buf[:n]; len(b) > 0; {
					used, ev, err := r.Next(b)
					if err != nil {
						t.Fatal(err)
					}
					b = b[used:]
					switch ev.Kind {
					case ws.EventMessage:
						if want := payload(next, tt.size); string(ev.Payload) != string(want) {
							t.Fatalf("reply %d: got %x…, want %x…", next, ev.Payload[:4], want[:4])
						}
						next++
					case ws.EventClose:
						if next != tt.messages || ev.CloseCode != ws.StatusNormalClosure {
							t.Fatalf("Close %d after %d replies; want %d after %d",
								ev.CloseCode, next, ws.StatusNormalClosure, tt.messages)
						}
						done = true
					}
				}
			}
			nc.Write(ws.AppendMaskedFrame(nil, ws.OpClose, true, 0, key,
				ws.AppendClosePayload(nil, ws.StatusNormalClosure, "")))
			select {
			case err := <-closed:
				if err == engine.ErrSlowConsumer {
					t.Fatalf("closed as a slow consumer")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("connection did not end")
			}
			// The handshake's response is not an engine write.
			writes := e.Stats().Writes
			if writes > tt.maxWrites {
				t.Errorf("%d write system calls for %d replies and a Close, want at most %d", writes, tt.messages, tt.maxWrites)
			}
			t.Logf("%d replies: %d write system calls", tt.messages, writes)
		})
	}
}

// payload is message i of a test: its number, then filler, size bytes.
func payload(i, size int) []byte {
	b := make([]byte, size)
	binary.BigEndian.PutUint32(b, uint32(i))
	for k := 4; k < size; k++ {
		b[k] = byte(k + i)
	}
	return b
}
