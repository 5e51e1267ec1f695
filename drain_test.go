package wsgate_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsgate/wsgate"
)

// TestDrain checks what a draining node does: a call running when Drain
// starts still gets its reply, then every connection, /ws and /echo, gets
// a Close frame with 1012 and DrainReason; meanwhile /readyz, new
// handshakes and new calls are refused, /healthz still answers, and
// Draining reports true.
func TestDrain(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, url := startServer(t, wsgate.Config{Engine: eng})
		started, release := make(chan struct{}), make(chan struct{})
		srv.Handle("slow", func(ctx context.Context, _ json.RawMessage) (any, error) {
			close(started)
			<-release
			return "done", nil
		})
		httpURL := "http" + strings.TrimPrefix(url, "ws")
		wsc, echo := dial(t, url+"/ws"), dial(t, url+"/echo")
		send(t, wsc, `{"id":1,"call":"slow"}`)
		<-started
		if srv.Draining() {
			t.Fatal("Draining before Drain")
		}

		drained := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			drained <- srv.Drain(ctx)
		}()
		waitUntil(t, srv.Draining)
		if got := statusOf(t, httpURL+"/readyz"); got != http.StatusServiceUnavailable {
			t.Errorf("/readyz while draining: %d, want 503", got)
		}
		if got := statusOf(t, httpURL+"/healthz"); got != http.StatusOK {
			t.Errorf("/healthz while draining: %d, want 200", got)
		}
		if nodes := srv.Nodes(); len(nodes) != 1 || !nodes[0].Draining {
			t.Errorf("Nodes() while draining: %+v, want this node, draining", nodes)
		}
		if _, resp, err := websocket.DefaultDialer.Dial(url+"/ws", nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("handshake while draining: %v, want 503", err)
		}

		close(release)
		if r := next(t, wsc); string(r.Result) != `"done"` {
			t.Fatalf("the running call: %+v, want its result", r)
		}
		for name, c := range map[string]*websocket.Conn{"/ws": wsc, "/echo": echo} {
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err := c.ReadMessage()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.CloseServiceRestart || ce.Text != wsgate.DrainReason {
				t.Errorf("%s: %v, want Close 1012 %q", name, err, wsgate.DrainReason)
			}
		}
		if err := <-drained; err != nil {
			t.Fatalf("Drain: %v", err)
		}
		if n := srv.Conns(); n != 0 {
			t.Errorf("%d connections left after Drain", n)
		}
	})
}

// statusOf is the status of GET url, on a connection of its own.
func statusOf(t *testing.T, url string) int {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
