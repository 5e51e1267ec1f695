package wsgate_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsgate/wsgate"
)

// engines are the connection engines every server test runs on.
var engines = []wsgate.EngineKind{wsgate.EngineGoroutine, wsgate.EngineEpoll, wsgate.EngineUring}

// eachEngine runs test once per engine, as parallel subtests named after
// the engine; an engine this system lacks is skipped.
func eachEngine(t *testing.T, test func(t *testing.T, eng wsgate.EngineKind)) {
	t.Helper()
	for _, eng := range engines {
		t.Run(eng.String(), func(t *testing.T) {
			t.Parallel()
			if !eng.Supported() {
				t.Skipf("engine %v is not supported on this system (uring: the kernel refuses io_uring_setup)", eng)
			}
			test(t, eng)
		})
	}
}

// startServer runs a Server on a loopback httptest server and stops both
// when the test ends.
func startServer(t *testing.T, cfg wsgate.Config) (*wsgate.Server, string) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := wsgate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		ts.Close()
	})
	return srv, "ws" + strings.TrimPrefix(ts.URL, "http")
}

// dial opens a gorilla/websocket client connection to url+path.
func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// reply is any server-to-client message of the /ws envelope.
type reply struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Ch   string          `json:"ch"`
	Seq  uint64          `json:"seq"`
	Data json.RawMessage `json:"data"`
}

func send(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatalf("write %s: %v", msg, err)
	}
}

func next(t *testing.T, c *websocket.Conn) reply {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	op, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if op != websocket.TextMessage {
		t.Fatalf("got message type %d, want text", op)
	}
	var r reply
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("reply %q is not JSON: %v", b, err)
	}
	return r
}

// request sends msg and returns the next message.
func request(t *testing.T, c *websocket.Conn, msg string) reply {
	t.Helper()
	send(t, c, msg)
	return next(t, c)
}

// closeCode reads until the connection ends and returns the close code
// the server sent.
func closeCode(t *testing.T, c *websocket.Conn) int {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if e, ok := err.(*websocket.CloseError); ok {
				ce = e
				return ce.Code
			}
			t.Fatalf("connection ended without a close frame: %v", err)
		}
	}
}
