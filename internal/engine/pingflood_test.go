package engine_test

import (
	"bufio"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/ws"
)

// TestPingFloodIsBounded has a client send a million pings without
// reading: the server answers as the sockets take the pongs, and the
// pongs that must wait beyond a few KiB replace the last one waiting (RFC
// 6455 §5.5.3), so the server's memory holds a bounded burst of pongs
// whatever the flood (before, every pong waited: 3 GB for a flood of
// empty pings). When the client reads at last it gets the pongs the
// sockets held, then the burst, the last for the last ping, not a
// million.
func TestPingFloodIsBounded(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		e := engine.New(engine.Options{Kind: kind})
		opened := make(chan *engine.Conn, 1)
		url := serve(t, e, func() engine.Handler {
			return funcs{open: func(c *engine.Conn) { opened <- c }}
		})
		nc, br, _, err := ws.Dial(context.Background(), url, ws.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		c := <-opened

		const pings = 1_000_000
		w := bufio.NewWriterSize(nc, 64<<10)
		key := ws.NewMaskKey()
		var frame []byte
		for i := range pings {
			frame = ws.AppendMaskedFrame(frame[:0], ws.OpPing, true, 0, key, fmt.Appendf(nil, "p%07d", i))
			if _, err := w.Write(frame); err != nil {
				t.Fatalf("ping %d: %v", i, err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		last := fmt.Sprintf("p%07d", pings-1)

		// Whenever we look, at most 4 KiB of pongs wait.
		time.Sleep(100 * time.Millisecond)
		if n := engine.QueuedControl(c); n > 4<<10 {
			t.Fatalf("%d bytes of control frames wait after the flood, want 4 KiB at most", n)
		}
		nc.SetReadDeadline(time.Now().Add(30 * time.Second))
		r := ws.NewReader(ws.ReaderOptions{Role: ws.ClientSide})
		buf := make([]byte, 64<<10)
		pongs := 0
		for {
			n, err := br.Read(buf)
			if err != nil {
				t.Fatalf("after %d pongs: %v (the last ping's pong never came)", pongs, err)
			}
			for b := buf[:n]; len(b) > 0; {
				k, ev, err := r.Next(b)
				if err != nil {
					t.Fatal(err)
				}
				b = b[k:]
				if ev.Kind != ws.EventPong {
					continue
				}
				pongs++
				if string(ev.Payload) == last {
					// The sockets hold a few MB of pongs; the rest were
					// never kept.
					if pongs >= pings {
						t.Fatalf("%d pongs for %d pings: a pong was kept for every ping", pongs, pings)
					}
					t.Logf("%v: %d pongs for %d pings, the last for the last ping", kind, pongs, pings)
					return
				}
			}
		}
	})
}
