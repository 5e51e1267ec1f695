package e2e

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
)

// maxMessageSize is the server's message limit in bytes: room for the
// 8 MiB echo cases.
const maxMessageSize = 16 << 20

// engines are the connection engines the interop matrix runs against.
var engines = []wsgate.EngineKind{wsgate.EngineGoroutine, wsgate.EngineEpoll, wsgate.EngineUring}

// startServer starts a wsgate server with engine eng on a loopback port
// for the rest of the test and returns its base URL, ws://127.0.0.1:PORT. Besides /echo
// and /ws, the server answers two call methods the cases use:
//
//	test.echo     returns its args unchanged
//	test.publish  {"channel":C,"data":D} → Server.Publish(C, D), returns {"seq":N}
//
// When WSGATE_E2E_URL is set, startServer returns it instead.
func startServer(t *testing.T, eng wsgate.EngineKind) string {
	t.Helper()
	if u := os.Getenv("WSGATE_E2E_URL"); u != "" {
		return strings.TrimRight(u, "/")
	}
	srv, err := wsgate.New(wsgate.Config{Engine: eng, MaxMessageSize: maxMessageSize})
	if err != nil {
		t.Fatalf("wsgate.New: %v", err)
	}
	srv.Handle("test.echo", func(_ context.Context, args json.RawMessage) (any, error) {
		return args, nil
	})
	srv.Handle("test.publish", func(ctx context.Context, args json.RawMessage) (any, error) {
		var a struct {
			Channel string          `json:"channel"`
			Data    json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(args, &a); err != nil || a.Channel == "" {
			return nil, wsgate.Errorf(wsgate.CodeBadRequest, `args must be {"channel":…,"data":…}`)
		}
		pub, err := srv.Publish(ctx, a.Channel, a.Data)
		if err != nil {
			return nil, err
		}
		return map[string]uint64{"seq": pub.Seq}, nil
	})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		ts.Close()
	})
	return "ws" + strings.TrimPrefix(ts.URL, "http")
}
