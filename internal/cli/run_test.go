package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// syncBuffer is a bytes.Buffer safe for the server's log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestFlagsAndEnvironment(t *testing.T) {
	t.Parallel()
	env := map[string]string{"WSGATE_MAX_MESSAGE_SIZE": "2048", "WSGATE_LISTEN": ":9999"}
	o, err := parseFlags([]string{"--listen", "127.0.0.1:0", "--echo=false"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.listen != "127.0.0.1:0" {
		t.Errorf("listen = %q: the flag must win over WSGATE_LISTEN", o.listen)
	}
	if o.maxMessageSize != 2048 {
		t.Errorf("max message size = %d, want 2048 from WSGATE_MAX_MESSAGE_SIZE", o.maxMessageSize)
	}
	if o.echo {
		t.Error("--echo=false ignored")
	}
	if _, err := parseFlags(nil, func(k string) string {
		if k == "WSGATE_ECHO" {
			return "maybe"
		}
		return ""
	}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "WSGATE_ECHO") {
		t.Errorf("bad environment value: err = %v, want one naming WSGATE_ECHO", err)
	}
	if _, err := parseFlags([]string{"extra"}, func(string) string { return "" }, &bytes.Buffer{}); err == nil {
		t.Error("a stray argument was accepted")
	}
	o, err = parseFlags([]string{"--compression-level", "6"}, func(k string) string {
		return map[string]string{"WSGATE_COMPRESSION": "false", "WSGATE_COMPRESSION_THRESHOLD": "1024"}[k]
	}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.compression || o.compLevel != 6 || o.compThreshold != 1024 {
		t.Errorf("compression flags: on=%v level=%d threshold=%d, want false 6 1024", o.compression, o.compLevel, o.compThreshold)
	}
	if o.compContexts || o.compMaxCtx != 64 {
		t.Errorf("context takeover defaults: %v, %d; want false, 64", o.compContexts, o.compMaxCtx)
	}
	o, err = parseFlags([]string{"--compression-max-contexts", "8"}, func(k string) string {
		return map[string]string{"WSGATE_COMPRESSION_CONTEXT_TAKEOVER": "true", "WSGATE_COMPRESSION_MAX_CONTEXTS": "100"}[k]
	}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !o.compContexts || o.compMaxCtx != 8 {
		t.Errorf("context takeover flags: %v, %d; want true, 8 (the flag wins over its twin)", o.compContexts, o.compMaxCtx)
	}
	if envName("max-message-size") != "WSGATE_MAX_MESSAGE_SIZE" {
		t.Error(envName("max-message-size"))
	}
}

func TestRunServesDemoAndShutsDown(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"--listen", "127.0.0.1:0", "--shutdown-grace", "5s"}, func(string) string { return "" }, logs, logs, ready)
	}()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run: %v\n%s", err, logs)
	}
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr.String()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"sub":"ticks"}`))
	c.WriteMessage(websocket.TextMessage, []byte(`{"id":2,"pub":"ticks","data":{"symbol":"FAKE"}}`))
	c.WriteMessage(websocket.TextMessage, []byte(`{"id":3,"call":"market.history","args":{"symbol":"ACME","points":50}}`))
	var sawTick, sawForbidden, sawHistory bool
	for !(sawTick && sawForbidden && sawHistory) {
		_, b, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v (tick %v, forbidden %v, history %v)", err, sawTick, sawForbidden, sawHistory)
		}
		var m struct {
			ID     int             `json:"id"`
			Ch     string          `json:"ch"`
			Result json.RawMessage `json:"result"`
			Error  *struct{ Code string }
		}
		json.Unmarshal(b, &m)
		switch {
		case m.Ch == "ticks":
			sawTick = true
		case m.ID == 2:
			sawForbidden = m.Error != nil && m.Error.Code == "forbidden"
			if !sawForbidden {
				t.Fatalf("client pub on ticks: %s, want forbidden", b)
			}
		case m.ID == 3:
			sawHistory = strings.Contains(string(m.Result), `"symbol":"ACME"`)
			if !sawHistory {
				t.Fatalf("market.history: %s", b)
			}
		}
	}
	// Keep reading, as a live client does, so the closing handshake completes.
	closed := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				closed <- err
				return
			}
		}
	}()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
	err = <-closed
	if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != websocket.CloseServiceRestart {
		t.Errorf("after shutdown: %v, want close 1012 (the node drains)", err)
	}
	if !strings.Contains(logs.String(), `backend="built-in demo`) || !strings.Contains(logs.String(), `files="demo page"`) {
		t.Errorf("the start-up log does not say the demo is served:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "wsgate stopped") {
		t.Errorf("logs lack the stop line:\n%s", logs)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"version"}, func(string) string { return "" }, &out, &out, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "wsgate ") || !strings.Contains(out.String(), "go1.") {
		t.Errorf("version output %q", out.String())
	}
}

func TestVersionText(t *testing.T) {
	t.Parallel()
	vcs := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "99a8dd6abc"}, {Key: "vcs.modified", Value: "true"}}}
	novcs := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}
	tests := []struct {
		built string
		bi    *debug.BuildInfo
		ok    bool
		want  string
	}{
		{"v0.3.0-12-g99a8dd6-dirty", novcs, true, "wsgate v0.3.0-12-g99a8dd6-dirty go1.26.8"},
		{"99a8dd6", vcs, true, "wsgate 99a8dd6 go1.26.8"},
		{"", vcs, true, "wsgate (devel) 99a8dd6abc+dirty go1.26.8"},
		{"", novcs, true, "wsgate (devel) go1.26.8"},
		{"", nil, false, "wsgate (unknown version)"},
	}
	for _, tt := range tests {
		if got := versionText(tt.built, tt.bi, tt.ok); got != tt.want {
			t.Errorf("versionText(%q, …) = %q, want %q", tt.built, got, tt.want)
		}
	}
}

func TestRunWithHTTPBackend(t *testing.T) {
	t.Parallel()
	var calls int
	var mu sync.Mutex
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=30")
		io.WriteString(w, `{"path":"`+r.URL.Path+`"}`)
	}))
	defer upstream.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan net.Addr, 1)
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"--listen", "127.0.0.1:0", "--backend", upstream.URL + "/api"}, func(string) string { return "" }, logs, logs, ready)
	}()
	addr := <-ready
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr.String()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"call":"market.history","args":{"symbol":"ACME"}}`))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := c.ReadMessage()
		if err != nil || string(b) != `{"id":1,"result":{"path":"/api/market.history"}}` {
			t.Fatalf("call %d through --backend: %s %v", i, b, err)
		}
	}
	mu.Lock()
	if calls != 1 {
		t.Errorf("backend called %d times for 3 identical cacheable calls, want 1", calls)
	}
	mu.Unlock()
	c.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if l := logs.String(); !strings.Contains(l, "backend="+upstream.URL+"/api") || strings.Contains(l, "built-in demo") ||
		!strings.Contains(l, "the page says so") {
		t.Errorf("the start-up log does not name the backend, or advertises the demo:\n%s", l)
	}
}

// TestDemoPageInBrowser loads the demo page in headless Chromium, with the
// demo backend and with a --backend that has no demo methods, and reads
// the page as the browser left it (--dump-dom).
func TestDemoPageInBrowser(t *testing.T) {
	t.Parallel()
	chromium := "/usr/bin/chromium"
	if p := os.Getenv("CHROMIUM"); p != "" {
		chromium = p
	}
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("WSGATE_REQUIRE_PEERS") == "1" {
			t.Fatalf("%s is missing (make deps installs it)", chromium)
		}
		t.Skipf("%s is missing (make deps installs it)", chromium)
	}
	upstream := httptest.NewServer(http.NotFoundHandler()) // a backend without market.*
	t.Cleanup(upstream.Close)
	tests := []struct {
		name  string
		args  []string
		want  []string
		avoid []string
	}{
		{"demo backend", nil,
			[]string{`data-demo="yes"`, `class="card ticker" data-symbol="ACME"`, `<section id="nodemo" class="card notice" hidden="">`},
			[]string{`data-demo="no"`}},
		{"other backend", []string{"--backend", upstream.URL},
			[]string{`data-demo="no"`, `<section id="nodemo" class="card notice">`, `answered market.symbols with “not_found`, `<section id="tickers" class="tickers" aria-label="Live prices" hidden="">`},
			[]string{`data-demo="yes"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			ready := make(chan net.Addr, 1)
			done := make(chan error, 1)
			go func() {
				done <- Run(ctx, append([]string{"--listen", "127.0.0.1:0"}, tt.args...), noEnv, io.Discard, io.Discard, ready)
			}()
			t.Cleanup(func() { cancel(); <-done })
			addr := <-ready
			warmCache(t, addr)
			// Chromium's virtual time does not wait for WebSocket replies:
			// on a busy machine the page may be dumped before they came,
			// so a page that lacks them is loaded again, a few times.
			var dom bytes.Buffer
			for attempt := 0; attempt < 5; attempt++ {
				dom.Reset()
				var errOut bytes.Buffer
				cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="+t.TempDir(),
					"--virtual-time-budget=10000", "--dump-dom", "http://"+addr.String()+"/")
				cmd.Stdout, cmd.Stderr = &dom, &errOut
				if err := cmd.Run(); err != nil {
					t.Fatalf("chromium: %v\n%s", err, errOut.String())
				}
				if strings.Contains(dom.String(), tt.want[0]) {
					break
				}
			}
			for _, want := range tt.want {
				if !strings.Contains(dom.String(), want) {
					t.Errorf("page lacks %s:\n%s", want, dom.String())
				}
			}
			for _, avoid := range tt.avoid {
				if strings.Contains(dom.String(), avoid) {
					t.Errorf("page has %s:\n%s", avoid, dom.String())
				}
			}
		})
	}
}

// warmCache makes the calls the demo page makes on load, so that the
// browser's are cache hits: Chromium's virtual time (--virtual-time-budget)
// does not wait for WebSocket replies, and a slow first market.history
// (under -race, on a busy machine) would likely miss the page's dump.
func warmCache(t *testing.T, addr net.Addr) {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr.String()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"call":"market.symbols"}`))
	c.WriteMessage(websocket.TextMessage, []byte(`{"id":2,"call":"market.history","args":{"symbol":"ACME","points":500}}`))
	for range 2 {
		if _, _, err := c.ReadMessage(); err != nil {
			t.Fatal(err)
		}
	}
}
