package wsgate_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsgate/wsgate"
)

func TestShutdownFinishesCallsThenCloses1001(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, err := wsgate.New(wsgate.Config{Engine: eng, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		started := make(chan struct{})
		srv.Handle("work", func(ctx context.Context, _ json.RawMessage) (any, error) {
			close(started)
			time.Sleep(100 * time.Millisecond)
			return "done", nil
		})
		ts := httptest.NewServer(srv.Handler())
		defer ts.Close()
		url := "ws" + strings.TrimPrefix(ts.URL, "http")
		c := dial(t, url+"/ws")
		idle := dial(t, url+"/echo")
		send(t, c, `{"id":1,"call":"work"}`)
		<-started

		shut := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			shut <- srv.Shutdown(ctx)
		}()
		if r := next(t, c); string(r.Result) != `"done"` {
			t.Fatalf("in-flight call: got %+v, want its result", r)
		}
		if code := closeCode(t, c); code != websocket.CloseGoingAway {
			t.Errorf("/ws close code %d, want 1001", code)
		}
		if code := closeCode(t, idle); code != websocket.CloseGoingAway {
			t.Errorf("/echo close code %d, want 1001", code)
		}
		if err := <-shut; err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if srv.Conns() != 0 {
			t.Errorf("%d connections left after Shutdown", srv.Conns())
		}
		// New connections and publications are refused.
		if _, resp, err := websocket.DefaultDialer.Dial(url+"/ws", nil); err == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("dial after Shutdown: %v, want 503", err)
		}
		if _, err := srv.Publish(context.Background(), "x", 1); err != wsgate.ErrServerClosed {
			t.Errorf("Publish after Shutdown: %v, want ErrServerClosed", err)
		}
	})
}

func TestShutdownDeadlineCancelsCalls(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, err := wsgate.New(wsgate.Config{Engine: eng, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		started := make(chan struct{})
		srv.Handle("forever", func(ctx context.Context, _ json.RawMessage) (any, error) {
			close(started)
			<-ctx.Done()
			return nil, ctx.Err()
		})
		ts := httptest.NewServer(srv.Handler())
		defer ts.Close()
		c := dial(t, "ws"+strings.TrimPrefix(ts.URL, "http")+"/ws")
		send(t, c, `{"id":1,"call":"forever"}`)
		<-started
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := srv.Shutdown(ctx); err != context.DeadlineExceeded {
			t.Fatalf("Shutdown: %v, want DeadlineExceeded", err)
		}
	})
}

func TestHandshakePolicy(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, url := startServer(t, wsgate.Config{Engine: eng, AllowedOrigins: []string{"https://app.example.com"}})
		tests := []struct {
			origin string
			ok     bool
		}{
			{"", true}, // not a browser
			{"https://app.example.com", true},
			{"HTTPS://APP.EXAMPLE.COM", true},
			{"https://evil.example.com", false},
		}
		for _, tt := range tests {
			h := http.Header{}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			c, resp, err := websocket.DefaultDialer.Dial(url+"/ws", h)
			if tt.ok {
				if err != nil {
					t.Errorf("origin %q: %v", tt.origin, err)
					continue
				}
				if got := c.Subprotocol(); got != "" {
					t.Errorf("origin %q: subprotocol %q selected though none offered", tt.origin, got)
				}
				c.Close()
			} else if err == nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("origin %q: %v, want 403", tt.origin, err)
			}
		}
		d := websocket.Dialer{Subprotocols: []string{"other", wsgate.Subprotocol}}
		c, _, err := d.Dial(url+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if c.Subprotocol() != wsgate.Subprotocol {
			t.Errorf("subprotocol %q, want %q", c.Subprotocol(), wsgate.Subprotocol)
		}
		if _, err := wsgate.New(wsgate.Config{Engine: eng, AllowedOrigins: []string{"app.example.com"}}); err == nil {
			t.Error("an origin without a scheme was accepted")
		}
	})
}

func TestAPIPublish(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, url := startServer(t, wsgate.Config{Engine: eng, APIKey: "k3y", MaxPublishSize: 64})
		sub := dial(t, url+"/ws")
		request(t, sub, `{"id":1,"sub":"news"}`)
		httpURL := "http" + strings.TrimPrefix(url, "ws") + "/api/publish"
		post := func(auth, body string) *http.Response {
			req, _ := http.NewRequest(http.MethodPost, httpURL, strings.NewReader(body))
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp
		}
		tests := []struct {
			auth, body string
			wantStatus int
		}{
			{"", `{"channel":"news","data":1}`, http.StatusUnauthorized},
			{"Bearer wrong", `{"channel":"news","data":1}`, http.StatusUnauthorized},
			{"Bearer k3y4", `{"channel":"news","data":1}`, http.StatusUnauthorized},
			{"Bearer k3", `{"channel":"news","data":1}`, http.StatusUnauthorized},
			{"Basic k3y", `{"channel":"news","data":1}`, http.StatusUnauthorized},
			{"Bearerk3y", `{"channel":"news","data":1}`, http.StatusUnauthorized},
			{"bearer k3y", `{"channel":"news"}`, http.StatusBadRequest}, // the scheme in any case
			{"BEARER  k3y", `{"channel":"news"}`, http.StatusBadRequest},
			{"Bearer k3y", `{"channel":"news"}`, http.StatusBadRequest},
			{"Bearer k3y", `not json`, http.StatusBadRequest},
			{"Bearer k3y", `{"channel":"/bad","data":1}`, http.StatusBadRequest},
			{"Bearer k3y", `{"channel":"news","data":"` + strings.Repeat("x", 100) + `"}`, http.StatusRequestEntityTooLarge},
			{"Bearer k3y", `{"channel":"news","data":{"headline":"up"}}`, http.StatusOK},
		}
		for _, tt := range tests {
			if resp := post(tt.auth, tt.body); resp.StatusCode != tt.wantStatus {
				t.Errorf("Authorization %q body %.40s: status %d, want %d", tt.auth, tt.body, resp.StatusCode, tt.wantStatus)
			}
		}
		if p := next(t, sub); p.Ch != "news" || string(p.Data) != `{"headline":"up"}` {
			t.Errorf("publication from the API: %+v", p)
		}
	})
}

func TestHealthAndFiles(t *testing.T) {
	t.Parallel()
	srv, err := wsgate.New(wsgate.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Files:  http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "file "+r.URL.Path) }),
	})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	for _, tt := range []struct {
		path, body string
		code       int
	}{
		{"/healthz", "ok\n", 200},
		{"/readyz", "ready\n", 200},
		{"/index.html", "file /index.html", 200},
		{"/api/publish", "file /api/publish", 200}, // no API key: /api is not served
	} {
		if code, body := get(tt.path); code != tt.code || body != tt.body {
			t.Errorf("GET %s = %d %q, want %d %q", tt.path, code, body, tt.code, tt.body)
		}
	}
	// A plain GET on /ws is not a WebSocket handshake.
	if code, _ := get("/ws"); code != http.StatusBadRequest && code != http.StatusUpgradeRequired {
		t.Errorf("plain GET /ws = %d, want 400 or 426", code)
	}
	srv.Close()
	if code, _ := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz after Close = %d, want 503", code)
	}
}

// TestSlowConsumerIsClosed1008 checks that the server gives up on a /ws
// client that stops reading. The client reads only after the connection
// is gone, past CloseTimeout, so it may find no Close frame: that the
// 1008 reaches a client draining after the decision is checked on the
// wire by internal/engine's TestSlowConsumerGets1008.
func TestSlowConsumerIsClosed1008(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, url := startServer(t, wsgate.Config{Engine: eng, MaxQueuedBytes: 64 << 10, CloseTimeout: 200 * time.Millisecond})
		c := dial(t, url+"/ws")
		request(t, c, `{"id":1,"sub":"firehose"}`)
		// The client stops reading; the server keeps publishing. The kernel's
		// socket buffers fill, then the queue, then the server gives up.
		payload := json.RawMessage(`"` + strings.Repeat("x", 16<<10) + `"`)
		deadline := time.Now().Add(10 * time.Second)
		for srv.Conns() > 0 && time.Now().Before(deadline) {
			srv.Publish(context.Background(), "firehose", payload)
		}
		if srv.Conns() != 0 {
			t.Fatal("slow consumer still connected")
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			_, _, err := c.ReadMessage()
			if err == nil {
				continue
			}
			// A dropped connection (no close frame: gorilla's 1006) is
			// acceptable too: the close frame may sit behind data the
			// client never read.
			if ce, ok := err.(*websocket.CloseError); ok && ce.Code != websocket.ClosePolicyViolation && ce.Code != websocket.CloseAbnormalClosure {
				t.Errorf("close code %d, want 1008", ce.Code)
			}
			break
		}
	})
}

func TestPingKeepsIdleClientAlive(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, url := startServer(t, wsgate.Config{Engine: eng, PingInterval: 50 * time.Millisecond, IdleTimeout: 300 * time.Millisecond})
		alive := dial(t, url+"/echo")
		var pings int
		alive.SetPingHandler(func(data string) error {
			pings++
			return alive.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
		// gorilla answers pings only while reading.
		alive.SetReadDeadline(time.Now().Add(600 * time.Millisecond))
		_, _, err := alive.ReadMessage()
		if ne, ok := err.(interface{ Timeout() bool }); !ok || !ne.Timeout() {
			t.Fatalf("connection that answers pings ended: %v", err)
		}
		if pings < 2 {
			t.Errorf("%d pings in 600ms with a 50ms interval", pings)
		}

		// A client that never answers is closed with 1001 after IdleTimeout.
		mute := dial(t, url+"/echo")
		mute.SetPingHandler(func(string) error { return nil })
		start := time.Now()
		if code := closeCode(t, mute); code != websocket.CloseGoingAway {
			t.Errorf("idle close code %d, want 1001", code)
		}
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Errorf("idle connection closed after %v, before IdleTimeout", d)
		}
	})
}

func TestStats(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, url := startServer(t, wsgate.Config{Engine: eng})
		srv.Handle("ok", func(context.Context, json.RawMessage) (any, error) { return 1, nil })
		srv.Handle("teapot", func(context.Context, json.RawMessage) (any, error) {
			return nil, wsgate.Errorf("teapot", "short and stout")
		})
		c := dial(t, url+"/ws")
		request(t, c, `{"id":1,"call":"ok"}`)
		request(t, c, `{"id":2,"call":"missing"}`)
		request(t, c, `{"id":3,"sub":"m"}`)
		srv.Publish(context.Background(), "m", 1)
		next(t, c)
		request(t, c, `{"id":4,"call":"teapot"}`)
		e := dial(t, url+"/echo")
		e.WriteMessage(websocket.TextMessage, []byte("x"))
		e.ReadMessage()
		e.WriteMessage(websocket.TextMessage, []byte{0xff}) // invalid UTF-8: closed 1007
		closeCode(t, e)
		e.Close()

		st := srv.Stats()
		for deadline := time.Now().Add(5 * time.Second); st.Closed.ProtocolError == 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
			st = srv.Stats() // the echo connection ends once its TCP close arrives
		}
		want := wsgate.Stats{
			WS:     wsgate.EndpointStats{Open: 1, Opened: 1, Received: 4},
			Echo:   wsgate.EndpointStats{Open: 0, Opened: 1, Received: 1},
			Closed: wsgate.CloseStats{ProtocolError: 1},
			Hub:    wsgate.HubStats{Channels: 1, Subscriptions: 1, Publications: 1, Deliveries: 1},
		}
		if st.WS != want.WS || st.Echo != want.Echo || st.Closed != want.Closed || st.Hub != want.Hub {
			t.Errorf("stats\n%+v, %+v, %+v, %+v; want\n%+v, %+v, %+v, %+v",
				st.WS, st.Echo, st.Closed, st.Hub, want.WS, want.Echo, want.Closed, want.Hub)
		}
		// "missing" is answered not_found before it runs: not counted.
		if len(st.Calls) != 2 || st.Calls["ok"].Count != 1 || st.Calls["teapot"].Count != 1 {
			t.Errorf("calls %+v, want one ok and one teapot", st.Calls)
		}
		for code, cs := range st.Calls {
			if n := len(cs.Buckets); n != 14 || cs.Buckets[0].UpperBound != 500*time.Microsecond || cs.Buckets[n-1].UpperBound != 10*time.Second {
				t.Fatalf("%s: buckets %+v, want 500µs to 10s", code, cs.Buckets)
			}
			if b := cs.Buckets[len(cs.Buckets)-1]; b.Count != cs.Count || cs.Duration <= 0 || cs.Duration > 10*time.Second {
				t.Errorf("%s: %d calls, %d under 10s, taking %v", code, cs.Count, b.Count, cs.Duration)
			}
		}
		if st.Cache.Disabled || st.Compression.Disabled || st.Compression.FramesPlain == 0 {
			t.Errorf("cache %+v, compression %+v", st.Cache, st.Compression)
		}
	})
}
