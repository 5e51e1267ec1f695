package wsgate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/wsgate/wsgate"
)

// This file checks compression with context takeover
// (Compression.ContextTakeover) end to end, with coder/websocket, a
// client that keeps its decompressor's window between messages.

// takeoverConfig is a server on eng that grants context takeover to up to
// max connections.
func takeoverConfig(eng wsgate.EngineKind, max int) wsgate.Config {
	return wsgate.Config{Engine: eng, Compression: wsgate.CompressionConfig{ContextTakeover: true, MaxContexts: max}}
}

// countingConn counts the bytes read from a connection: the compressed
// size on the wire of what the server sends.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// coderPeer is a coder/websocket client offering permessage-deflate with
// context takeover.
type coderPeer struct {
	*coder.Conn
	exts string        // the server's Sec-WebSocket-Extensions
	read *atomic.Int64 // bytes read from the socket
}

// takesOver reports whether the server kept the right to its context.
func (p *coderPeer) takesOver() bool {
	return strings.HasPrefix(p.exts, "permessage-deflate") && !strings.Contains(p.exts, "server_no_context_takeover")
}

func dialCoderTakeover(t *testing.T, url string) *coderPeer {
	t.Helper()
	read := new(atomic.Int64)
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{nc, read}, nil
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := coder.Dial(ctx, url, &coder.DialOptions{
		HTTPClient:      &http.Client{Transport: tr},
		CompressionMode: coder.CompressionContextTakeover,
	})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	c.SetReadLimit(4 << 20)
	t.Cleanup(func() {
		c.CloseNow()
		tr.CloseIdleConnections()
	})
	return &coderPeer{Conn: c, exts: resp.Header.Get("Sec-WebSocket-Extensions"), read: read}
}

// TestContextTakeoverEcho echoes ten identical 4 KB JSON messages, then
// ten similar ones, through /echo with a coder client (which compresses
// its own messages too): with context takeover the server's copies after
// the first cost a few bytes each on the wire; without it each costs as
// much as the first.
func TestContextTakeoverEcho(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		for _, takeover := range []bool{true, false} {
			t.Run(fmt.Sprintf("takeover=%v", takeover), func(t *testing.T) {
				t.Parallel()
				cfg := wsgate.Config{Engine: eng}
				if takeover {
					cfg = takeoverConfig(eng, 0)
				}
				srv, base := startServer(t, cfg)
				p := dialCoderTakeover(t, base+"/echo")
				if p.takesOver() != takeover {
					t.Fatalf("response %q, want context takeover %v", p.exts, takeover)
				}
				ctx := t.Context()
				msgs := make([][]byte, 0, 20)
				for range 10 {
					msgs = append(msgs, jsonPayload(4<<10))
				}
				for i := range 10 {
					msgs = append(msgs, fmt.Appendf(nil, `{"seq":%d,"doc":%s}`, i, jsonPayload(4<<10-40)))
				}
				sizes := make([]int64, len(msgs))
				for i, msg := range msgs {
					before := p.read.Load()
					if err := p.Write(ctx, coder.MessageText, msg); err != nil {
						t.Fatal(err)
					}
					_, got, err := p.Read(ctx)
					if err != nil || !bytes.Equal(got, msg) {
						t.Fatalf("echo %d: %d bytes, %v", i, len(got), err)
					}
					sizes[i] = p.read.Load() - before
				}
				t.Logf("bytes on the wire per echo of about 4 KB: %v", sizes)
				for i := 1; i < len(sizes); i++ {
					if shrinks := sizes[i]*4 < sizes[0]; shrinks != takeover {
						t.Errorf("echo %d took %d bytes, the first %d: want much smaller = %v", i, sizes[i], sizes[0], takeover)
					}
				}
				var want int64
				if takeover {
					want = 1
				}
				if got := srv.Stats().Compression.Contexts; got != want {
					t.Errorf("%d compression contexts held, want %d", got, want)
				}
			})
		}
	})
}

// TestContextTakeoverCap checks MaxContexts: with 2, the third
// connection gets the stateless answer; a closed connection's slot is
// free again, and a client that does not allow context takeover
// (gorilla) takes none.
func TestContextTakeoverCap(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, base := startServer(t, takeoverConfig(eng, 2))
		held := func() int64 { return srv.Stats().Compression.Contexts }
		g, resp, err := (&gorilla.Dialer{EnableCompression: true}).Dial(base+"/echo", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		if exts := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(exts, "server_no_context_takeover") || held() != 0 {
			t.Fatalf("gorilla (no context takeover offered): %q, %v contexts held", exts, held())
		}
		a, b, c := dialCoderTakeover(t, base+"/echo"), dialCoderTakeover(t, base+"/ws"), dialCoderTakeover(t, base+"/echo")
		if !a.takesOver() || !b.takesOver() || c.takesOver() {
			t.Fatalf("responses %q, %q, %q: want the third without context takeover", a.exts, b.exts, c.exts)
		}
		if !strings.Contains(c.exts, "server_no_context_takeover") {
			t.Fatalf("third response %q", c.exts)
		}
		if got := held(); got != 2 {
			t.Fatalf("%d compression contexts held, want 2", got)
		}
		// Every connection still echoes, compressed, whatever its mode.
		msg := jsonPayload(4 << 10)
		for _, p := range []*coderPeer{a, c} {
			if err := p.Write(t.Context(), coder.MessageText, msg); err != nil {
				t.Fatal(err)
			}
			if _, got, err := p.Read(t.Context()); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("echo: %d bytes, %v", len(got), err)
			}
		}
		a.Close(coder.StatusNormalClosure, "")
		waitUntil(t, func() bool { return held() == 1 })
		if d := dialCoderTakeover(t, base+"/echo"); !d.takesOver() {
			t.Fatalf("after a close: %q, want context takeover", d.exts)
		}
		b.Close(coder.StatusNormalClosure, "")
		c.Close(coder.StatusNormalClosure, "")
		waitUntil(t, func() bool { return held() == 1 })
	})
}

// waitUntil polls cond for up to 5 seconds.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestContextTakeoverFailedHandshake runs handshakes that fail after
// negotiating (the ResponseWriter cannot be hijacked): the slot each
// reserved comes back, so a cap of 1 is never used up.
func TestContextTakeoverFailedHandshake(t *testing.T) {
	t.Parallel()
	srv, base := startServer(t, takeoverConfig(wsgate.EngineAuto, 1))
	for range 5 {
		r := httptest.NewRequest("GET", "/echo", nil)
		r.Header.Set("Upgrade", "websocket")
		r.Header.Set("Connection", "Upgrade")
		r.Header.Set("Sec-WebSocket-Version", "13")
		r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		r.Header.Set("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, r)
		if rec.Code != http.StatusInternalServerError {
			t.Fatalf("handshake on a recorder: status %d, want 500", rec.Code)
		}
		if got := srv.Stats().Compression.Contexts; got != 0 {
			t.Fatalf("after a failed handshake: %v contexts held, want 0", got)
		}
	}
	if p := dialCoderTakeover(t, base+"/echo"); !p.takesOver() {
		t.Fatalf("after failed handshakes: %q, want context takeover", p.exts)
	}
}

// TestContextTakeoverConcurrentWrites has one connection with context
// takeover receive publications from eight publishing goroutines and
// call replies at the same time (-race): coder inflates each message with
// the window of those before it, so a frame out of compression order
// fails the connection. Each publisher's messages arrive in order.
func TestContextTakeoverConcurrentWrites(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		const publishers, perPublisher, calls = 8, 60, 60
		srv, base := startServer(t, takeoverConfig(eng, 0))
		srv.Handle("test.echo", func(_ context.Context, args json.RawMessage) (any, error) { return args, nil })
		p := dialCoderTakeover(t, base+"/ws")
		if !p.takesOver() {
			t.Fatalf("response %q", p.exts)
		}
		ctx := t.Context()
		if err := p.Write(ctx, coder.MessageText, []byte(`{"id":0,"sub":"ticks"}`)); err != nil {
			t.Fatal(err)
		}
		if _, b, err := p.Read(ctx); err != nil || !strings.Contains(string(b), `"result"`) {
			t.Fatalf("subscribe: %s, %v", b, err)
		}
		var wg sync.WaitGroup
		for w := range publishers {
			wg.Go(func() {
				for i := range perPublisher {
					// Sizes from under the threshold to about 2 KB.
					data := fmt.Appendf(nil, `{"w":%d,"i":%d,"pad":%q}`, w, i, strings.Repeat("ACME 101.5 ", (w*7+i*13)%180))
					if _, err := srv.Publish(context.Background(), "ticks", json.RawMessage(data)); err != nil {
						t.Errorf("publish: %v", err)
						return
					}
				}
			})
		}
		wg.Go(func() {
			for i := 1; i <= calls; i++ {
				msg := fmt.Appendf(nil, `{"id":%d,"call":"test.echo","args":{"n":%d,"pad":%q}}`, i, i, strings.Repeat("price ", i*10))
				if err := p.Write(ctx, coder.MessageText, msg); err != nil {
					t.Errorf("call: %v", err)
					return
				}
			}
		})
		defer wg.Wait()
		next := make([]int, publishers)
		replies := 0
		for range publishers*perPublisher + calls {
			_, b, err := p.Read(ctx)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			var m struct {
				ID   int `json:"id"`
				Data struct {
					W, I int
				} `json:"data"`
				Result struct{ N int } `json:"result"`
			}
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("message %.60q: %v", b, err)
			}
			if m.ID != 0 {
				if m.Result.N != m.ID {
					t.Fatalf("reply %.60q", b)
				}
				replies++
				continue
			}
			if w := m.Data.W; m.Data.I != next[w] {
				t.Fatalf("publisher %d: got %d, want %d", w, m.Data.I, next[w])
			}
			next[m.Data.W]++
		}
		if replies != calls {
			t.Fatalf("%d replies, want %d", replies, calls)
		}
	})
}

// TestContextTakeoverCachedReplies mixes cached replies with replies the
// connection's own context compresses, on a connection with context
// takeover: the client inflates every message with the window of those
// before it, so a cached reply must go through the connection's context
// too (a twin made without it would leave the client's window ahead of
// the server's compressor, and the next message would inflate wrong).
func TestContextTakeoverCachedReplies(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, base := startServer(t, takeoverConfig(eng, 0))
		cached, fresh := jsonArray(4096), jsonArray(3000)
		srv.Handle("cached", func(context.Context, json.RawMessage) (any, error) {
			return json.RawMessage(cached), nil
		}, wsgate.CacheFor(time.Hour))
		srv.Handle("fresh", func(context.Context, json.RawMessage) (any, error) {
			return json.RawMessage(fresh), nil
		})
		p := dialCoderTakeover(t, base+"/ws")
		if !p.takesOver() {
			t.Fatalf("response %q, want context takeover", p.exts)
		}
		ctx := t.Context()
		for i := range 12 {
			method, result := "cached", cached
			if i%3 == 2 {
				method, result = "fresh", fresh
			}
			if err := p.Write(ctx, coder.MessageText, fmt.Appendf(nil, `{"id":%d,"call":%q}`, i, method)); err != nil {
				t.Fatal(err)
			}
			_, got, err := p.Read(ctx)
			want := fmt.Sprintf(`{"id":%d,"result":%s}`, i, result)
			if err != nil || string(got) != want {
				t.Fatalf("call %d (%s): %d bytes, %v; want %d bytes", i, method, len(got), err, len(want))
			}
		}
	})
}
