package engine_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/internal/frame"
	"github.com/wsgate/wsgate/ws"
)

func TestMain(m *testing.M) {
	if url := os.Getenv(childEnv); url != "" {
		os.Exit(childMain(url))
	}
	goleak.VerifyTestMain(m)
}

// funcs adapts functions to engine.Handler; nil fields do nothing.
type funcs struct {
	open    func(*engine.Conn)
	message func(*engine.Conn, ws.Opcode, []byte)
	close   func(*engine.Conn, error)
}

func (f funcs) OnOpen(c *engine.Conn) {
	if f.open != nil {
		f.open(c)
	}
}

func (f funcs) OnMessage(c *engine.Conn, op ws.Opcode, p []byte) {
	if f.message != nil {
		f.message(c, op, p)
	}
}

func (f funcs) OnClose(c *engine.Conn, err error) {
	if f.close != nil {
		f.close(c, err)
	}
}

// serve runs e behind an httptest server whose handler is e.Upgrade (the
// engine's Codec, if any, negotiates permessage-deflate); newHandler
// makes each connection's handler.
func serve(t *testing.T, e *engine.Engine, newHandler func() engine.Handler) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.Upgrade(w, r, &ws.Upgrader{}, newHandler())
	}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Shutdown(ctx, ws.StatusGoingAway, "test over")
		ts.Close()
	})
	return "ws" + strings.TrimPrefix(ts.URL, "http")
}

// kinds are the engines every test runs on.
var kinds = []engine.Kind{engine.Goroutine, engine.Epoll, engine.Uring}

// eachKind runs test as a parallel subtest per engine kind, skipping the
// kinds this system does not support.
func eachKind(t *testing.T, test func(t *testing.T, kind engine.Kind)) {
	t.Helper()
	for _, k := range kinds {
		t.Run(k.String(), func(t *testing.T) {
			if !k.Supported() {
				t.Skipf("%v is not supported here (Uring: the kernel refuses io_uring_setup)", k)
			}
			test(t, k)
		})
	}
}

func echo() engine.Handler {
	return funcs{message: func(c *engine.Conn, op ws.Opcode, p []byte) { c.WriteMessage(op, p) }}
}

// warmUp opens and closes one connection, so that the engine has started
// what it keeps for its life (epoll loops hold two descriptors each)
// before a test counts descriptors.
func warmUp(t *testing.T, e *engine.Engine, url string) {
	t.Helper()
	nc, _, _, err := ws.Dial(context.Background(), url, ws.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	waitFor(t, func() bool { return e.Len() == 0 })
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// TestConcurrentWritersKeepOrder has many goroutines write to each of many
// connections at once, some with WriteMessage, some with WriteFrame, with
// the peer reading: every frame arrives, and each writer's frames arrive in
// the order written.
func TestConcurrentWritersKeepOrder(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		const conns, writers, perWriter = 50, 8, 200
		e := engine.New(engine.Options{Kind: kind})
		opened := make(chan *engine.Conn, conns)
		url := serve(t, e, func() engine.Handler {
			return funcs{open: func(c *engine.Conn) {
				select {
				case opened <- c:
				default:
				}
			}}
		})
		warmUp(t, e, url)
		<-opened
		fdsBefore := openFDs(t)

		var wg sync.WaitGroup
		for range conns {
			cl, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				t.Fatal(err)
			}
			c := <-opened
			shared := frame.New(ws.OpBinary, []byte{0xFF, 0xFF, 0xFF, 0xFF})
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range perWriter {
						msg := binary.BigEndian.AppendUint32([]byte{byte(w)}, uint32(i))
						write := func() error { return c.WriteMessage(ws.OpBinary, msg) }
						if w%2 == 1 { // half the writers leave the write to the loop
							write = func() error { return c.WriteFrame(frame.New(ws.OpBinary, msg)) }
						}
						if err := write(); err != nil {
							t.Errorf("write: %v", err)
							return
						}
						if i%50 == 0 {
							c.WriteFrame(shared)
						}
					}
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer cl.Close()
				next := make([]uint32, writers)
				want := writers * (perWriter + perWriter/50)
				for n := 0; n < want; n++ {
					cl.SetReadDeadline(time.Now().Add(10 * time.Second))
					_, b, err := cl.ReadMessage()
					if err != nil {
						t.Errorf("read %d of %d: %v", n, want, err)
						return
					}
					if len(b) == 4 {
						continue // the shared frame
					}
					w, i := b[0], binary.BigEndian.Uint32(b[1:])
					if i != next[w] {
						t.Errorf("writer %d: got frame %d, want %d", w, i, next[w])
						return
					}
					next[w]++
				}
			}()
		}
		wg.Wait()
		waitFor(t, func() bool { return e.Len() == 0 })
		waitFor(t, func() bool { return openFDs(t) <= fdsBefore })
	})
}

// TestCloseRacesWrites closes connections while other goroutines write:
// writes either succeed or return ErrClosed, nothing panics or leaks.
func TestCloseRacesWrites(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		e := engine.New(engine.Options{Kind: kind})
		opened := make(chan *engine.Conn, 1)
		closed := make(chan error, 1)
		url := serve(t, e, func() engine.Handler {
			return funcs{open: func(c *engine.Conn) { opened <- c }, close: func(_ *engine.Conn, err error) { closed <- err }}
		})
		for range 30 {
			cl, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				t.Fatal(err)
			}
			go func() { // a live client: reads until the close handshake ends
				for {
					if _, _, err := cl.ReadMessage(); err != nil {
						cl.Close()
						return
					}
				}
			}()
			c := <-opened
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(2)
				go func() {
					defer wg.Done()
					for i := range 100 {
						var err error
						if i%2 == 0 {
							err = c.WriteMessage(ws.OpText, []byte("x"))
						} else {
							err = c.WriteFrame(frame.New(ws.OpText, []byte("y")))
						}
						if err != nil && err != engine.ErrClosed {
							t.Errorf("write: %v", err)
						}
					}
				}()
				go func() {
					defer wg.Done()
					c.Close(ws.StatusNormalClosure, "bye")
				}()
			}
			wg.Wait()
			if err := <-closed; err != engine.ErrClosed {
				t.Errorf("OnClose got %v, want ErrClosed", err)
			}
			if err := c.WriteMessage(ws.OpText, []byte("late")); err != engine.ErrClosed {
				t.Errorf("write after close: %v, want ErrClosed", err)
			}
			select {
			case <-c.Context().Done():
			default:
				t.Error("Context not done after the connection ended")
			}
		}
	})
}

// TestPeerDropsMidFrame cuts the TCP connection halfway through a frame:
// the connection ends, OnClose runs once, and nothing is left behind.
func TestPeerDropsMidFrame(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		e := engine.New(engine.Options{Kind: kind})
		closed := make(chan error, 1)
		url := serve(t, e, func() engine.Handler {
			return funcs{close: func(_ *engine.Conn, err error) {
				select {
				case closed <- err:
				default:
				}
			}}
		})
		warmUp(t, e, url)
		<-closed
		fdsBefore := openFDs(t)
		nc, br, _, err := ws.Dial(context.Background(), url, ws.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_ = br
		f := ws.AppendMaskedFrame(nil, ws.OpBinary, true, 0, ws.NewMaskKey(), bytes.Repeat([]byte("a"), 10000))
		nc.Write(f[:5000])
		time.Sleep(20 * time.Millisecond)
		nc.Close()
		select {
		case err := <-closed:
			if err == nil {
				t.Error("OnClose got nil error for a dropped connection")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("OnClose not called after the peer dropped")
		}
		waitFor(t, func() bool { return e.Len() == 0 && openFDs(t) <= fdsBefore })
	})
}

// TestSmallSocketBuffers sends large and small frames through tiny
// kernel buffers, so most writes are partial: nothing is lost or reordered.
func TestSmallSocketBuffers(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		e := engine.New(engine.Options{Kind: kind, MaxQueuedBytes: 64 << 20})
		opened := make(chan *engine.Conn, 1)
		url := serve(t, e, func() engine.Handler { return funcs{open: func(c *engine.Conn) { opened <- c }} })
		d := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
			nc, err := net.Dial(network, addr)
			if err == nil {
				nc.(*net.TCPConn).SetReadBuffer(16 << 10)
			}
			return nc, err
		}}
		cl, _, err := d.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		c := <-opened
		var want [][]byte
		for i := range 100 {
			size := 1 + (i*7919)%6000
			msg := bytes.Repeat([]byte{byte(i)}, size)
			want = append(want, msg)
			if err := c.WriteMessage(ws.OpBinary, msg); err != nil {
				t.Fatal(err)
			}
		}
		for i, w := range want {
			cl.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, b, err := cl.ReadMessage()
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if !bytes.Equal(b, w) {
				t.Fatalf("message %d: got %d bytes of %x, want %d bytes of %x", i, len(b), b[0], len(w), w[0])
			}
		}
	})
}

// TestControlFramesBetweenFragments interleaves pings with the fragments
// of one message: pongs come back at once and the message arrives whole.
func TestControlFramesBetweenFragments(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		e := engine.New(engine.Options{Kind: kind})
		url := serve(t, e, echo)
		nc, br, _, err := ws.Dial(context.Background(), url, ws.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		key := ws.NewMaskKey()
		var out []byte
		out = ws.AppendMaskedFrame(out, ws.OpText, false, 0, key, []byte("hel"))
		out = ws.AppendMaskedFrame(out, ws.OpPing, true, 0, key, []byte("p1"))
		out = ws.AppendMaskedFrame(out, ws.OpContinuation, false, 0, key, []byte("lo "))
		out = ws.AppendMaskedFrame(out, ws.OpPing, true, 0, key, []byte("p2"))
		out = ws.AppendMaskedFrame(out, ws.OpContinuation, true, 0, key, []byte("wörld"))
		if _, err := nc.Write(out); err != nil {
			t.Fatal(err)
		}
		r := ws.NewReader(ws.ReaderOptions{Role: ws.ClientSide})
		var got []string
		buf := make([]byte, 4096)
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		for len(got) < 3 {
			n, err := br.Read(buf)
			if err != nil {
				t.Fatalf("read: %v (got %q)", err, got)
			}
			b := buf[:n]
			for len(b) > 0 {
				used, ev, err := r.Next(b)
				if err != nil {
					t.Fatal(err)
				}
				b = b[used:]
				switch ev.Kind {
				case ws.EventPong:
					got = append(got, "pong "+string(ev.Payload))
				case ws.EventMessage:
					got = append(got, fmt.Sprintf("%v %s", ev.Opcode, ev.Payload))
				}
			}
		}
		want := []string{"pong p1", "pong p2", "Text hello wörld"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
