package wsgate_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsgate/wsgate"
)

// TestTLSConnections serves wss:// on every engine kind, epoll included:
// a TLS connection cannot move to an epoll loop, so it runs on the
// goroutine engine, with the same behaviour (echo, close handshake).
func TestTLSConnections(t *testing.T) {
	t.Parallel()
	for _, eng := range []wsgate.EngineKind{wsgate.EngineAuto, wsgate.EngineEpoll, wsgate.EngineUring, wsgate.EngineGoroutine} {
		t.Run(eng.String(), func(t *testing.T) {
			t.Parallel()
			if !eng.Supported() {
				t.Skipf("engine %v is not supported on this system", eng)
			}
			srv, err := wsgate.New(wsgate.Config{Engine: eng, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewTLSServer(srv.Handler())
			defer ts.Close()
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := srv.Shutdown(ctx); err != nil {
					t.Errorf("Shutdown: %v", err)
				}
			}()
			d := websocket.Dialer{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, EnableCompression: true}
			c, resp, err := d.Dial("wss"+strings.TrimPrefix(ts.URL, "https")+"/echo", nil)
			if err != nil {
				t.Fatalf("dial wss: %v", err)
			}
			defer c.Close()
			if !strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
				t.Errorf("deflate not negotiated over TLS: %q", resp.Header.Get("Sec-WebSocket-Extensions"))
			}
			for _, msg := range []string{"hello over TLS", strings.Repeat(`{"k":"v"},`, 5000)} {
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
					t.Fatal(err)
				}
				if _, b, err := c.ReadMessage(); err != nil || string(b) != msg {
					t.Fatalf("echo over TLS: %d bytes, %v", len(b), err)
				}
			}
			c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "done"))
			if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, 4000) {
				t.Errorf("close over TLS: %v, want the server to answer 4000", err)
			}
		})
	}
}
