package wsgate_test

import (
	"net"
	"net/http"
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
			a.Close()
			// Open counts down after the connection gave back its place
			// in the gate (Conns, the engine's count, may go first).
			open := func() int64 { st := srv.Stats(); return st.WS.Open + st.Echo.Open }
			deadline := time.Now().Add(5 * time.Second)
			for open() > 2 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
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
		// open is how many connections have run OnOpen and not yet given
		// their place back.
		open := func() int64 { st := srv.Stats(); return st.WS.Open + st.Echo.Open }
		waitOpen := func(n int64) {
			t.Helper()
			deadline := time.Now().Add(5 * time.Second)
			for open() != n && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if got := open(); got != n {
				t.Fatalf("%d connections open, want %d", got, n)
			}
		}
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
				waitOpen(2)
				// One leaves with a closing handshake, one drops.
				a.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
				b.Close()
				waitOpen(0) // Open counts down once the place is given back
				a.Close()
			}
		}
	})
}
