package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/errcode"
)

// logBuffer collects log lines from concurrent calls.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newClient starts a test server with h and a Client for it; both are
// closed when the test ends.
func newClient(t *testing.T, h http.Handler, cfg Config) (*Client, *logBuffer) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	logs := &logBuffer{}
	cfg.URL = srv.URL + "/rpc/"
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, logs
}

// reply answers every request with status, headers and body.
func reply(status int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func wantCode(t *testing.T, err error, code errcode.Code) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T): want *Error with code %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code %s (%v), want %s", e.Code, err, code)
	}
	return e
}

func TestCallStatusMapping(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 300)
	tests := []struct {
		name    string
		status  int
		body    string
		code    errcode.Code // "" for success
		message string       // Error.Message, or Response.Body on success
	}{
		{"ok", 200, `{"a":1}`, "", `{"a":1}`},
		{"ok trimmed", 200, " \n[1,2]\n", "", `[1,2]`},
		{"created", 201, `"x"`, "", `"x"`},
		{"no content", 204, ``, "", `null`},
		{"bad request", 400, `{"error":{"message":"symbol missing"}}`, errcode.BadRequest, "symbol missing"},
		{"unauthorized", 401, ``, errcode.Forbidden, "backend: unauthorized"},
		{"forbidden", 403, `{"message":"not yours"}`, errcode.Forbidden, "not yours"},
		{"not found", 404, `nope`, errcode.NotFound, "backend: not found"},
		{"method not allowed", 405, ``, errcode.BadRequest, "backend: method not allowed"},
		{"conflict", 409, `{"error":"taken"}`, errcode.BadRequest, "taken"},
		{"too large", 413, ``, errcode.TooLarge, "backend: request entity too large"},
		{"unprocessable", 422, `{"error":{"message":"  bad date "}}`, errcode.BadRequest, "bad date"},
		{"rate limited", 429, `{"message":"slow down"}`, errcode.RateLimited, "slow down"},
		{"unknown 4xx", 499, ``, errcode.BadRequest, "backend: status 499"},
		{"internal", 500, `{"error":{"message":"db down"}}`, errcode.Unavailable, "db down"},
		{"bad gateway", 502, `<html>`, errcode.Unavailable, "backend: bad gateway"},
		{"unavailable", 503, ``, errcode.Unavailable, "backend: service unavailable"},
		{"gateway timeout", 504, ``, errcode.Unavailable, "backend: gateway timeout"},
		{"redirect", 307, ``, errcode.Unavailable, "backend: unusable reply"},
		{"message not a string", 400, `{"error":{"message":7},"message":"outer"}`, errcode.BadRequest, "outer"},
		{"long message", 400, `{"message":"` + long + `"}`, errcode.BadRequest, long[:MaxMessageLen-4] + "…"},
		{"invalid utf-8 message", 400, "{\"message\":\"a\xffb\"}", errcode.BadRequest, "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := reply(tt.status, tt.body)
			if tt.status == 307 {
				h = reply(307, "", "Location", "/elsewhere")
			}
			c, _ := newClient(t, h, Config{})
			resp, err := c.Call(context.Background(), "m.x", nil, "")
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if string(resp.Body) != tt.message {
					t.Fatalf("body %q, want %q", resp.Body, tt.message)
				}
				return
			}
			e := wantCode(t, err, tt.code)
			if e.Message != tt.message {
				t.Errorf("message %q, want %q", e.Message, tt.message)
			}
			if e.Status != tt.status {
				t.Errorf("status %d, want %d", e.Status, tt.status)
			}
			if len(e.Message) > MaxMessageLen {
				t.Errorf("message is %d bytes, over %d", len(e.Message), MaxMessageLen)
			}
		})
	}
}

func TestCallRequest(t *testing.T) {
	t.Parallel()
	type seen struct {
		method, path, ctype, user string
		hasUser                   bool
		body                      string
	}
	got := make(chan seen, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, hasUser := r.Header[UserHeader]
		got <- seen{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get(UserHeader), hasUser, string(b)}
		w.Header().Set("Cache-Control", "max-age=30, stale-while-revalidate=5")
		_, _ = io.WriteString(w, `{}`)
	})
	c, _ := newClient(t, h, Config{})
	tests := []struct {
		name, method, args, user string
		want                     seen
	}{
		{"args", "market.history", `{"symbol":"ACME"}`, "", seen{"POST", "/rpc/market.history", "application/json", "", false, `{"symbol":"ACME"}`}},
		{"no args", "market.symbols", ``, "", seen{"POST", "/rpc/market.symbols", "application/json", "", false, `{}`}},
		{"user", "orders/list:v2", `[1]`, "alice", seen{"POST", "/rpc/orders/list:v2", "application/json", "alice", true, `[1]`}},
	}
	for _, tt := range tests { // sequential: one channel
		resp, err := c.Call(context.Background(), tt.method, json.RawMessage(tt.args), tt.user)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if s := <-got; s != tt.want {
			t.Errorf("%s: backend saw %+v, want %+v", tt.name, s, tt.want)
		}
		if resp.Cache.TTL() != 30*time.Second || resp.Cache.StaleFor() != 5*time.Second {
			t.Errorf("%s: cache %+v", tt.name, resp.Cache)
		}
	}
}

func TestCallRejectsUnsendable(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	c, _ := newClient(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }), Config{})
	tests := []struct{ name, method, user string }{
		{"empty", "", ""},
		{"dot segment", "a/../admin", ""},
		{"dot", "./a", ""},
		{"empty segment", "a//b", ""},
		{"leading slash", "/a", ""},
		{"trailing slash", "a/", ""},
		{"space", "a b", ""},
		{"query", "a?b=1", ""},
		{"too long", strings.Repeat("a", 129), ""},
		{"user newline", "a", "bob\r\nX-Admin: 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.Call(context.Background(), tt.method, nil, tt.user)
			wantCode(t, err, errcode.BadRequest)
		})
	}
	t.Cleanup(func() {
		if n := hits.Load(); n != 0 {
			t.Errorf("backend got %d requests, want 0", n)
		}
	})
}

func TestCallGarbage(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("1", 2000)
	tests := []struct {
		name string
		h    http.HandlerFunc
		log  string
	}{
		{"not json", reply(200, "<html>oops</html>"), "not JSON"},
		{"empty", reply(200, ""), "not JSON"},
		{"truncated", reply(200, `{"a":[1,2`), "not JSON"},
		{"two values", reply(200, `{} {}`), "not JSON"},
		{"binary", reply(200, "\x00\xff\xfe\x01"), "not JSON"},
		{"invalid utf-8 string", reply(200, "\"\xff\""), "not JSON"},
		{"too large by length", reply(200, "["+big+"]"), "too large"},
		{"too large chunked", func(w http.ResponseWriter, r *http.Request) {
			for range 10 {
				_, _ = io.WriteString(w, big[:200])
				w.(http.Flusher).Flush()
			}
		}, "too large"},
		{"short body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100")
			_, _ = io.WriteString(w, `{"a":`)
		}, "call failed"},
		{"hijacked and dropped", func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Len")
			conn.Close()
		}, "call failed"},
		{"not http", func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			_, _ = io.WriteString(conn, "\x00\x01garbage\r\n\r\n")
			conn.Close()
		}, "call failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, logs := newClient(t, tt.h, Config{MaxResponseSize: 1000})
			_, err := c.Call(context.Background(), "m", nil, "")
			wantCode(t, err, errcode.Unavailable)
			if !strings.Contains(logs.String(), tt.log) {
				t.Errorf("log %q does not mention %q", logs.String(), tt.log)
			}
		})
	}
}

func TestCallTimeout(t *testing.T) {
	t.Parallel()
	stall := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // the server notices a closed connection only after the body
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
	stallBody := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		_, _ = io.WriteString(w, "[1,")
		w.(http.Flusher).Flush()
		stall(w, r)
	}
	deadline := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 100*time.Millisecond)
	}
	cancelled := func() (context.Context, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		return ctx, cancel
	}
	background := func() (context.Context, context.CancelFunc) { return context.Background(), func() {} }
	tests := []struct {
		name    string
		h       http.HandlerFunc
		timeout time.Duration
		ctx     func() (context.Context, context.CancelFunc)
		code    errcode.Code
		is      error
	}{
		{"no headers, call timeout", stall, 100 * time.Millisecond, background, errcode.Timeout, context.DeadlineExceeded},
		{"stalled body, call timeout", stallBody, 100 * time.Millisecond, background, errcode.Timeout, context.DeadlineExceeded},
		{"caller deadline", stall, 10 * time.Second, deadline, errcode.Timeout, context.DeadlineExceeded},
		{"caller cancelled", stall, 10 * time.Second, cancelled, errcode.Unavailable, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := newClient(t, tt.h, Config{Timeout: tt.timeout})
			ctx, cancel := tt.ctx()
			defer cancel()
			start := time.Now()
			_, err := c.Call(ctx, "slow", nil, "")
			wantCode(t, err, tt.code)
			if !errors.Is(err, tt.is) {
				t.Errorf("%v is not %v", err, tt.is)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("call took %v", d)
			}
		})
	}
}

func TestCallBackendDown(t *testing.T) {
	t.Parallel()
	addr := refusingAddr(t)
	logs := &logBuffer{}
	c, err := New(Config{URL: "http://" + addr, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Call(context.Background(), "m", nil, "")
	e := wantCode(t, err, errcode.Unavailable)
	if !errors.Is(err, syscallRefused) || e.Status != 0 {
		t.Errorf("error %v: want connection refused, no status", err)
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("log %q", logs.String())
	}
}

func TestConcurrencyCap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		queue     time.Duration
		calls     int
		wantFails bool
	}{
		{"excess waits", 30 * time.Second, 40, false},
		{"excess fails fast", -1, 40, true},
		{"excess waits in vain", 20 * time.Millisecond, 40, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const limit = 4
			var cur, peak, served atomic.Int32
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := cur.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				time.Sleep(30 * time.Millisecond)
				cur.Add(-1)
				served.Add(1)
				_, _ = io.WriteString(w, "1")
			})
			c, _ := newClient(t, h, Config{MaxConcurrent: limit, QueueTimeout: tt.queue})
			var wg sync.WaitGroup
			var fails atomic.Int32
			for range tt.calls {
				wg.Go(func() {
					if _, err := c.Call(context.Background(), "m", nil, ""); err != nil {
						wantCode(t, err, errcode.Unavailable)
						fails.Add(1)
					}
				})
			}
			wg.Wait()
			if p := peak.Load(); p > limit || p < 2 {
				t.Errorf("peak concurrency at the backend %d, want 2..%d", p, limit)
			}
			if got := served.Load() + fails.Load(); int(got) != tt.calls {
				t.Errorf("served %d + failed %d != %d calls", served.Load(), fails.Load(), tt.calls)
			}
			if (fails.Load() > 0) != tt.wantFails {
				t.Errorf("%d calls failed; want failures: %v", fails.Load(), tt.wantFails)
			}
			if n := c.InFlight(); n != 0 {
				t.Errorf("InFlight %d after all calls", n)
			}
		})
	}
}

func TestKeepAlive(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(reply(200, `1`))
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := New(Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 50 {
		if _, err := c.Call(context.Background(), "m", nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	// An error reply with a short body keeps the connection too.
	for range 20 {
		_, _ = c.Call(context.Background(), "missing", nil, "")
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 70 sequential calls, want 1", n)
	}
}

func TestNewInvalidURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "localhost:8080", "ftp://h/x", "http://", "http://h/x?a=1", "http://h/#f", "http://u:p@h/", "http://h/%zz"} {
		if _, err := New(Config{URL: u}); !errors.Is(err, ErrInvalidURL) {
			t.Errorf("New(%q): %v, want ErrInvalidURL", u, err)
		}
	}
}

// refusingAddr is a loopback address nobody listens on: a listener's,
// closed.
func refusingAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
