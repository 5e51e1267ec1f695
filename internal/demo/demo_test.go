package demo_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/internal/demo"
)

// TestOverWebSocket runs the demo behind a real Server and talks to it the
// way a browser does.
func TestOverWebSocket(t *testing.T) {
	t.Parallel()
	s, err := wsgate.New(wsgate.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	demo.Register(s)
	ts := httptest.NewServer(s.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := demo.RunTicks(ctx, s, 5*time.Millisecond); err != nil {
			t.Errorf("RunTicks: %v", err)
		}
	})
	defer func() {
		cancel()
		wg.Wait()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		s.Shutdown(sctx)
		ts.Close()
	}()

	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	type reply struct {
		ID     int             `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  *struct{ Code string }
		Ch     string          `json:"ch"`
		Data   json.RawMessage `json:"data"`
	}
	request := func(msg string) reply {
		t.Helper()
		if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		for {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, b, err := c.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			var r reply
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if r.Ch == "" {
				return r
			}
		}
	}

	if r := request(`{"id":1,"call":"market.symbols"}`); string(r.Result) != `["ACME","GLOBEX","INITECH","UMBRELLA"]` {
		t.Errorf("market.symbols = %s", r.Result)
	}
	r := request(`{"id":2,"call":"market.history","args":{"symbol":"ACME","points":3}}`)
	var h struct{ Points []struct{ T int64 } }
	if err := json.Unmarshal(r.Result, &h); err != nil || len(h.Points) != 3 {
		t.Errorf("market.history = %s (%v), want 3 points", r.Result, err)
	}
	if r := request(`{"id":3,"call":"market.history","args":{"symbol":"NOPE"}}`); r.Error == nil || r.Error.Code != "not_found" {
		t.Errorf("unknown symbol: %+v, want not_found", r)
	}
	if r := request(`{"id":4,"call":"market.history","args":{"points":3}}`); r.Error == nil || r.Error.Code != "bad_request" {
		t.Errorf("missing symbol: %+v, want bad_request", r)
	}
	if r := request(`{"id":5,"sub":"ticks"}`); r.Error != nil || r.ID != 5 {
		t.Fatalf("sub ticks: %+v", r)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for a tick: %v", err)
		}
		var p reply
		json.Unmarshal(b, &p)
		if p.Ch != "ticks" {
			continue
		}
		var tick struct {
			Symbol string
			Price  float64
			TS     int64
		}
		if err := json.Unmarshal(p.Data, &tick); err != nil || tick.Symbol == "" || tick.Price <= 0 || tick.TS == 0 {
			t.Fatalf("tick %s (%v)", p.Data, err)
		}
		break
	}
}
