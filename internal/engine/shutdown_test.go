package engine_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// TestServeAfterStop hands the engine a connection whose handshake was
// answered just after the engine stopped, as happens when a Shutdown
// comes between an upgrade and Serve. After a Shutdown the client gets
// its Close frame (a drain's 1012 tells it to move at once), not a bare
// EOF; after Close it is dropped.
func TestServeAfterStop(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		for _, tt := range []struct {
			name string
			stop func(e *engine.Engine)
			code int
		}{
			{"shutdown", func(e *engine.Engine) {
				e.Shutdown(context.Background(), ws.StatusServiceRestart, "draining")
			}, websocket.CloseServiceRestart},
			{"close", (*engine.Engine).Close, websocket.CloseAbnormalClosure},
		} {
			t.Run(tt.name, func(t *testing.T) {
				e := engine.New(engine.Options{Kind: kind})
				served := make(chan error, 1)
				ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					nc, br, _, err := (&ws.Upgrader{}).Upgrade(w, r)
					if err != nil {
						served <- err
						return
					}
					tt.stop(e)
					served <- e.Serve(nc, br, echo(), wsflate.Params{})
				}))
				defer ts.Close()
				cl, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http"), nil)
				if err != nil {
					t.Fatal(err)
				}
				defer cl.Close()
				if err := <-served; !errors.Is(err, engine.ErrEngineClosed) {
					t.Fatalf("Serve = %v, want ErrEngineClosed", err)
				}
				cl.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, _, err = cl.ReadMessage()
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != tt.code {
					t.Fatalf("read: %v, want close code %d", err, tt.code)
				}
				if tt.code == websocket.CloseServiceRestart && ce.Text != "draining" {
					t.Errorf("close reason %q, want %q", ce.Text, "draining")
				}
			})
		}
	})
}
