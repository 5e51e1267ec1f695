package demo_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/internal/demo"
)

// TestStatsCall: demo.stats reports the answering node and its counters
// as a client's own traffic moved them: a history computed then served
// from the cache, sent deflated, and the call itself not cached.
func TestStatsCall(t *testing.T) {
	t.Parallel()
	s, err := wsgate.New(wsgate.Config{
		NodeID: "stats1", Region: "eu-test",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	demo.Register(s)
	ts := httptest.NewServer(s.Handler())
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		ts.Close()
	}()
	d := websocket.Dialer{EnableCompression: true}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	call := func(id int, method, args string) json.RawMessage {
		t.Helper()
		msg := `{"id":` + strconv.Itoa(id) + `,"call":"` + method + `"`
		if args != "" {
			msg += `,"args":` + args
		}
		if err := c.WriteMessage(websocket.TextMessage, []byte(msg+"}")); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			ID     int
			Result json.RawMessage
			Error  any
		}
		if err := json.Unmarshal(b, &r); err != nil || r.ID != id || r.Error != nil {
			t.Fatalf("%s answered %.200s (%v)", method, b, err)
		}
		return r.Result
	}
	stats := func(id int) demo.Stats {
		t.Helper()
		var st demo.Stats
		if err := json.Unmarshal(call(id, demo.StatsMethod, ""), &st); err != nil {
			t.Fatal(err)
		}
		return st
	}

	call(1, "market.history", `{"symbol":"GLOBEX","points":300}`) // computed
	call(2, "market.history", `{"symbol":"GLOBEX","points":300}`) // from the cache
	st := stats(3)
	if st.Node != "stats1" || st.Region != "eu-test" || st.Conns != 1 {
		t.Errorf("node %q region %q conns %d, want stats1, eu-test, 1", st.Node, st.Region, st.Conns)
	}
	if st.Cache.Hits != 1 || st.Cache.Misses != 1 || st.Cache.Entries != 1 || st.Cache.Bytes == 0 {
		t.Errorf("cache %+v, want 1 hit, 1 miss, 1 entry", st.Cache)
	}
	if c := st.Compression; c.BytesOut == 0 || c.BytesOut*2 > c.BytesIn || c.FramesDeflated < 2 {
		t.Errorf("compression %+v, want two histories sent deflated to less than half", c)
	}
	// A call is counted once answered, so the count may lag its reply a
	// little; demo.stats is not cached, so asking again sees it grow.
	for id := 4; ; id++ {
		again := stats(id)
		if again.Cache != st.Cache {
			t.Fatalf("cache %+v after demo.stats, was %+v: demo.stats went through the cache", again.Cache, st.Cache)
		}
		if again.Calls >= 3 {
			break
		}
		if id == 100 {
			t.Fatalf("calls = %d after 3 answered", again.Calls)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
