package wsgate_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsgate/wsgate"
)

// dialFrom dials url from the local address ip; it returns the response
// of a refused handshake.
func dialFrom(t *testing.T, url, ip string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	d := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		return (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).Dial(network, addr)
	}}
	c, resp, err := d.Dial(url, nil)
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, resp, err
}

// refused checks that a handshake was answered 503 with Retry-After and
// a body that names the cap.
func refused(t *testing.T, resp *http.Response, err error, want string) {
	t.Helper()
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("handshake past the cap: %v %v, want 503 with Retry-After", resp, err)
	}
	body := make([]byte, 256)
	n, _ := resp.Body.Read(body)
	if !strings.Contains(string(body[:n]), want) {
		t.Fatalf("refusal says %q, want it to mention %q", body[:n], want)
	}
}

// waitOpen waits until srv holds n open connections, as Stats counts
// them: from OnOpen, which may come after the client has its 101, until
// the connection gave its place in the gate back (Conns, the engine's
// count, may go first).
func waitOpen(t *testing.T, srv *wsgate.Server, n int64) {
	t.Helper()
	open := func() int64 { st := srv.Stats(); return st.WS.Open + st.Echo.Open }
	deadline := time.Now().Add(5 * time.Second)
	for open() != n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := open(); got != n {
		t.Fatalf("%d connections open, want %d", got, n)
	}
}

func TestConnCaps(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		t.Run("total", func(t *testing.T) {
			srv, url := startServer(t, wsgate.Config{Engine: eng, MaxConns: 3})
			a := dial(t, url+"/ws")
			dial(t, url+"/echo")
			dial(t, url+"/ws")
			_, resp, err := dialFrom(t, url+"/echo", "127.0.0.1")
			refused(t, resp, err, "connection limit (3)")
			if n := srv.Stats().Limits.MaxConns; n != 1 {
				t.Fatalf("Stats counts %d handshakes refused at MaxConns, want 1", n)
			}
			health, err := http.Get("http" + strings.TrimPrefix(url, "ws") + "/healthz")
			if err != nil || health.StatusCode != http.StatusOK {
				t.Fatalf("/healthz at the cap: %v %v", health, err)
			}
			health.Body.Close()
			// Open counts from OnOpen, which may come after the client
			// has its 101: wait for all three before closing one.
			waitOpen(t, srv, 3)
			a.Close()
			waitOpen(t, srv, 2)
			if _, _, err := dialFrom(t, url+"/ws", "127.0.0.1"); err != nil {
				t.Fatalf("handshake after a connection left: %v", err)
			}
		})
		t.Run("per IP", func(t *testing.T) {
			_, url := startServer(t, wsgate.Config{Engine: eng, MaxConnsPerIP: 2})
			for range 2 {
				if _, _, err := dialFrom(t, url+"/ws", "127.0.0.1"); err != nil {
					t.Fatal(err)
				}
			}
			_, resp, err := dialFrom(t, url+"/ws", "127.0.0.1")
			refused(t, resp, err, "from this address (2)")
			if _, _, err := dialFrom(t, url+"/ws", "127.0.0.2"); err != nil {
				t.Fatalf("another address at the first one's cap: %v", err)
			}
		})
	})
}

// TestPerIPPlacesComeBack: a connection that ends gives its place under
// MaxConnsPerIP back, on both endpoints and both engines, however it
// ended, so an address that comes and goes is never locked out.
func TestPerIPPlacesComeBack(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, url := startServer(t, wsgate.Config{Engine: eng, MaxConnsPerIP: 2})
		for round := range 5 {
			for _, path := range []string{"/ws", "/echo"} {
				a, _, err := dialFrom(t, url+path, "127.0.0.3")
				if err != nil {
					t.Fatalf("round %d %s: %v", round, path, err)
				}
				b, _, err := dialFrom(t, url+path, "127.0.0.3")
				if err != nil {
					t.Fatalf("round %d %s: %v", round, path, err)
				}
				_, resp, err := dialFrom(t, url+path, "127.0.0.3")
				refused(t, resp, err, "from this address (2)")
				waitOpen(t, srv, 2)
				// One leaves with a closing handshake, one drops.
				a.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
				b.Close()
				waitOpen(t, srv, 0)
				a.Close()
			}
		}
	})
}

// TestPerIPBehindAddressRewrite: an embedder's middleware that sets
// r.RemoteAddr from a proxy's header (as "real IP" middlewares do) decides
// the address a connection is counted under, and the place comes back
// under that address, not the TCP peer's.
func TestPerIPBehindAddressRewrite(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, err := wsgate.New(wsgate.Config{Engine: eng, MaxConnsPerIP: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		h := srv.Handler()
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.RemoteAddr = r.Header.Get("X-Real-IP") + ":1"
			h.ServeHTTP(w, r)
		}))
		t.Cleanup(func() { ts.Close(); srv.Close() })
		url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/echo"
		dialAs := func(ip string) (*websocket.Conn, *http.Response, error) {
			c, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"X-Real-IP": {ip}})
			if c != nil {
				t.Cleanup(func() { c.Close() })
			}
			return c, resp, err
		}
		for round := range 3 {
			c, _, err := dialAs("203.0.113.9")
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			_, resp, err := dialAs("203.0.113.9")
			refused(t, resp, err, "from this address (1)")
			other, _, err := dialAs("198.51.100.7")
			if err != nil {
				t.Fatalf("round %d, another address: %v", round, err)
			}
			waitOpen(t, srv, 2)
			c.Close()
			other.Close()
			waitOpen(t, srv, 0)
		}
	})
}
