package cli

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startRun runs the wsgate command with args on a loopback port and stops
// it when the test ends.
func startRun(t *testing.T, args ...string) net.Addr {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() {
		done <- Run(ctx, append([]string{"--listen", "127.0.0.1:0"}, args...), func(string) string { return "" }, logs, logs, ready)
	}()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run: %v\n%s", err, logs)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return addr
}

// closedWithin reports whether the server ends c within d, reading and
// discarding what it sends meanwhile.
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	return err == nil // EOF: the server closed it; a timeout is an error
}

// TestHTTPTimeouts: connections that stall in each way a slow or idle
// client can are closed by the server once their timeout passes.
func TestHTTPTimeouts(t *testing.T) {
	t.Parallel()
	addr := startRun(t, "--header-timeout", "200ms", "--request-timeout", "400ms", "--keep-alive-timeout", "300ms")
	for _, tt := range []struct {
		name, send string
	}{
		{"headers cut short", "GET /healthz HTTP/1.1\r\nHo"},
		{"second request cut after 2 bytes", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGE"},
		{"body stops halfway", "POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"channel\":"},
		{"idle keep-alive", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"silent", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := net.Dial("tcp", addr.String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, tt.send)
			if !closedWithin(c, 5*time.Second) {
				t.Fatal("connection still open 5 s later")
			}
		})
	}
}

// TestConnGuard: past a quarter of the open-file limit keep-alives go off
// until the count drops under an eighth; when HTTP and WebSocket
// connections together pass the limit less 64, a new connection is
// answered 503 and closed.
func TestConnGuard(t *testing.T) {
	t.Parallel()
	srv := &http.Server{}
	const ws = 136 // WebSocket connections held
	g := newConnGuard(srv, 400, discardLogger(), func() int { return ws })
	if g.high != 100 || g.low != 50 || g.max != 336 {
		t.Fatalf("thresholds %d/%d/%d for a limit of 400", g.high, g.low, g.max)
	}
	conns := make([]net.Conn, 0, 200)
	for range 200 {
		c, _ := net.Pipe()
		conns = append(conns, c)
		g.connState(c, http.StateNew)
	}
	if !g.pressed.Load() {
		t.Fatal("keep-alives still on with 200 open connections")
	}
	server, client := net.Pipe()
	go g.connState(server, http.StateNew)
	resp, err := http.ReadResponse(bufio.NewReader(client), nil)
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("connection past the cap: %v %v", resp, err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != refusalBody {
		t.Fatalf("refusal body %q", body)
	}
	g.connState(server, http.StateClosed)
	for _, c := range conns[:151] {
		g.connState(c, http.StateClosed)
	}
	if g.pressed.Load() {
		t.Fatalf("keep-alives still off with %d open", g.open.Load())
	}
}

// TestStaticFlag: --static serves the directory through internal/static:
// a symlink out of it is not followed, dotfiles and listings are not
// served.
func TestStaticFlag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("mine"), 0o644)
	os.WriteFile(filepath.Join(dir, ".env"), []byte("SECRET=1"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.Symlink("/etc/passwd", filepath.Join(dir, "passwd"))
	addr := startRun(t, "--static", dir)
	for path, want := range map[string]int{"/": 200, "/passwd": 404, "/.env": 404, "/sub/": 404, "/%00": 400} {
		resp, err := http.Get("http://" + addr.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || want == 200 && string(b) != "mine" || strings.Contains(string(b), "root:") {
			t.Errorf("%s: %d %q, want %d", path, resp.StatusCode, b, want)
		}
	}
}

// TestCDNFlag: with --cdn-url the pages of --static and the demo page name
// their files through the CDN, fingerprinted; the node serves the page
// (revalidated) and the fingerprinted file (immutable) itself.
func TestCDNFlag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte(`<script src="app.js"></script>`), 0o644)
	os.WriteFile(filepath.Join(dir, "app.js"), []byte("console.log(1)"), 0o644)
	addr := startRun(t, "--static", dir, "--cdn-url", "https://cdn.example.com/")
	fetch := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get("http://" + addr.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	resp, page := fetch("/")
	m := regexp.MustCompile(`^<script src="https://cdn\.example\.com/(app\.[0-9a-f]{10}\.js)"></script>$`).FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("page: %d %q %v", resp.StatusCode, page, resp.Header)
	}
	resp, body := fetch("/" + m[1])
	if resp.StatusCode != 200 || body != "console.log(1)" || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("%s: %d %q %v", m[1], resp.StatusCode, body, resp.Header)
	}

	// The demo page is served through the same handler.
	addr = startRun(t, "--cdn-url", "https://cdn.example.com")
	resp, page = fetch("/")
	if resp.StatusCode != 200 || !strings.Contains(page, "<title>wsgate demo</title>") || resp.Header.Get("ETag") == "" {
		t.Fatalf("demo page: %d %v", resp.StatusCode, resp.Header)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
