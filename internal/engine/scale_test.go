//go:build linux

package engine_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/internal/frame"
	"github.com/wsgate/wsgate/ws"
)

// TestThousandsOfConnections runs writers, closers and readers at once
// over a thousand connections: every write that was accepted arrives, in
// order, before the Close frame; every connection ends; nothing is left.
func TestThousandsOfConnections(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		const conns, writers, perWriter = 1000, 8, 20
		e := engine.New(engine.Options{Kind: kind})
		var mu sync.Mutex
		var server []*engine.Conn
		var closed atomic.Int64
		url := serve(t, e, func() engine.Handler {
			return funcs{
				open: func(c *engine.Conn) {
					mu.Lock()
					server = append(server, c)
					mu.Unlock()
				},
				close: func(*engine.Conn, error) { closed.Add(1) },
			}
		})
		// Warm up (epoll loops start with the first connection) and wait
		// for the warm-up connection's OnClose: Len counts a connection
		// before its OnOpen runs.
		warmUp(t, e, url)
		waitFor(t, func() bool { return closed.Load() == 1 })
		mu.Lock()
		server = server[:0]
		mu.Unlock()
		fdsBefore := openFDs(t)

		// Clients dial in parallel; each reads until the server's Close.
		type result struct {
			got    [writers]uint32 // messages received per writer
			closed bool
			err    error
		}
		results := make([]result, conns)
		var readers sync.WaitGroup
		parallel(conns, 32, func(i int) {
			nc, br, _, err := ws.Dial(context.Background(), url, ws.DialOptions{})
			if err != nil {
				results[i].err = err
				return
			}
			cc := &clientConn{nc: nc, br: br}
			readers.Add(1)
			go func() {
				defer readers.Done()
				defer nc.Close()
				res := &results[i]
				for {
					ev, err := cc.next()
					if err != nil {
						res.err = err
						return
					}
					switch ev.Kind {
					case ws.EventClose:
						res.closed = true
						nc.Write(ws.AppendMaskedFrame(nil, ws.OpClose, true, 0, ws.NewMaskKey(), ws.AppendClosePayload(nil, ev.CloseCode, "")))
						return
					case ws.EventMessage:
						if len(ev.Payload) != 5 {
							continue // the shared frame
						}
						w, seq := ev.Payload[0], binary.BigEndian.Uint32(ev.Payload[1:])
						if seq != res.got[w] {
							res.err = fmt.Errorf("writer %d: frame %d, want %d", w, seq, res.got[w])
							return
						}
						res.got[w]++
					}
				}
			}()
		})
		waitFor(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(server) == conns
		})
		mu.Lock()
		cs := append([]*engine.Conn(nil), server...)
		mu.Unlock()

		// Accepted writes per connection and writer; a write after Close
		// fails with ErrClosed and does not count.
		accepted := make([][writers]atomic.Uint32, len(cs))
		shared := frame.New(ws.OpBinary, []byte("shared"))
		var work sync.WaitGroup
		for w := range writers {
			work.Add(1)
			go func() {
				defer work.Done()
				for seq := range perWriter {
					for i, c := range cs {
						msg := binary.BigEndian.AppendUint32([]byte{byte(w)}, uint32(seq))
						if int(accepted[i][w].Load()) != seq {
							continue // an earlier write failed: keep the sequence gap-free
						}
						switch err := c.WriteMessage(ws.OpBinary, msg); err {
						case nil:
							accepted[i][w].Add(1)
						case engine.ErrClosed:
						default:
							t.Errorf("write: %v", err)
							return
						}
						if seq%7 == 0 {
							c.WriteFrame(shared)
						}
					}
				}
			}()
		}
		for i, c := range cs {
			if i%4 == 0 {
				work.Add(1)
				go func() {
					defer work.Done()
					time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
					c.Close(ws.StatusNormalClosure, "closer")
				}()
			}
		}
		work.Wait()
		for _, c := range cs {
			c.Close(ws.StatusNormalClosure, "done")
		}
		readers.Wait()
		for i := range results {
			if results[i].err != nil || !results[i].closed {
				t.Fatalf("client %d: closed %v, err %v", i, results[i].closed, results[i].err)
			}
		}
		// Match clients to server connections by what they received:
		// every client's counts must equal one connection's accepted
		// counts. Compare the multisets.
		want := map[[writers]uint32]int{}
		for i := range accepted {
			var k [writers]uint32
			for w := range writers {
				k[w] = accepted[i][w].Load()
			}
			want[k]++
		}
		for i := range results {
			want[results[i].got]--
		}
		for k, n := range want {
			if n != 0 {
				t.Fatalf("%d more connections accepted %v than received it", n, k)
			}
		}
		waitFor(t, func() bool { return e.Len() == 0 })
		waitFor(t, func() bool { return openFDs(t) <= fdsBefore })
	})
}

// TestTenThousandConnections holds 10,000 connections opened by a client
// process, echoes on a share of them, then shuts the engine down: every
// client gets 1001, and the engine ends holding no descriptor more than
// it started with. Both engines run it under the race detector too: the
// goroutine engine's 20,000 goroutines were once past the detector's limit
// of 8128 live goroutines, which Go 1.19 (ThreadSanitizer v3) removed
// everywhere but windows/amd64 and openbsd/amd64.
func TestTenThousandConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		const conns = 10000
		e := engine.New(engine.Options{Kind: kind})
		url := serve(t, e, echo)
		warmUp(t, e, url)
		fdsBefore := openFDs(t)

		start := time.Now()
		c := startChild(t, url, conns)
		waitFor(t, func() bool { return e.Len() == conns })
		opened := time.Since(start)
		if got := c.do("echo 500 20 64"); !hasPrefix(got, "echoed 10000 ") {
			t.Fatalf("child: %q, want 10000 echoes", got)
		}
		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			done <- e.Shutdown(ctx, ws.StatusGoingAway, "bye")
		}()
		if got := c.do("closes"); got != "closes 1001=10000" {
			t.Errorf("child: %q, want every connection closed with 1001", got)
		}
		if err := <-done; err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		t.Logf("%v: %d connections opened in %v, all closed in %v", kind, conns, opened, time.Since(start))
		c.stop()
		if e.Len() != 0 {
			t.Errorf("%d connections left", e.Len())
		}
		waitFor(t, func() bool { return openFDs(t) <= fdsBefore })
	})
}

func hasPrefix(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }
