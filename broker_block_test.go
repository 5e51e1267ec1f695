package wsgate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsgate/wsgate"
)

// gatedBroker is a MemoryBroker whose Publish, Subscribe and History wait
// while its gate is shut, as a network broker that stalls or is
// unreachable would, or fail with down when it is set.
type gatedBroker struct {
	*wsgate.MemoryBroker
	mu      sync.Mutex
	gate    chan struct{} // closed: open; nil: open
	down    error
	waiting atomic.Int32 // calls blocked at the gate now
}

func newGatedBroker() *gatedBroker {
	return &gatedBroker{MemoryBroker: wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{})}
}

// shut makes calls wait until the returned function is called.
func (b *gatedBroker) shut() (open func()) {
	g := make(chan struct{})
	b.mu.Lock()
	b.gate = g
	b.mu.Unlock()
	return sync.OnceFunc(func() { close(g) })
}

func (b *gatedBroker) setDown(err error) {
	b.mu.Lock()
	b.down = err
	b.mu.Unlock()
}

// pass waits at the gate, for ctx at most (nil: forever).
func (b *gatedBroker) pass(ctx context.Context) error {
	b.mu.Lock()
	g, down := b.gate, b.down
	b.mu.Unlock()
	if down != nil {
		return down
	}
	if g == nil {
		return nil
	}
	b.waiting.Add(1)
	defer b.waiting.Add(-1)
	if ctx == nil {
		<-g
		return nil
	}
	select {
	case <-g:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *gatedBroker) Publish(ctx context.Context, ch string, data json.RawMessage) (wsgate.Publication, error) {
	if err := b.pass(ctx); err != nil {
		return wsgate.Publication{}, err
	}
	return b.MemoryBroker.Publish(ctx, ch, data)
}

func (b *gatedBroker) Subscribe(ch string, deliver func(wsgate.Publication)) (func(), error) {
	if err := b.pass(nil); err != nil {
		return nil, err
	}
	return b.MemoryBroker.Subscribe(ch, deliver)
}

func (b *gatedBroker) History(ctx context.Context, ch string, since *wsgate.Position) (wsgate.History, error) {
	if err := b.pass(ctx); err != nil {
		return wsgate.History{}, err
	}
	return b.MemoryBroker.History(ctx, ch, since)
}

// waitWaiting waits until n broker calls are held at the gate.
func waitWaiting(t *testing.T, b *gatedBroker, n int32) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for b.waiting.Load() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d broker calls waiting, want %d", b.waiting.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestStalledBrokerHoldsUpNobody stalls the broker while clients pub and
// sub: the connections asking it wait for their answers, and everything
// else keeps working meanwhile, on the same connections too: echoes,
// cached calls, calls, health checks. Nothing here is timed: the checks
// complete while the broker is still stalled, or the test fails.
func TestStalledBrokerHoldsUpNobody(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		b := newGatedBroker()
		srv, url := startServer(t, wsgate.Config{Engine: eng, Broker: b, CallTimeout: time.Minute})
		srv.Handle("cached", func(context.Context, json.RawMessage) (any, error) {
			return map[string]string{"from": "cache"}, nil
		}, wsgate.CacheFor(time.Hour))
		srv.Handle("plain", func(_ context.Context, args json.RawMessage) (any, error) { return args, nil })
		a, c := dial(t, url+"/ws"), dial(t, url+"/ws")
		if r := request(t, a, `{"id":0,"call":"cached"}`); r.Error != nil {
			t.Fatalf("priming the cache: %+v", r.Error)
		}

		open := b.shut()
		defer open()
		send(t, a, `{"id":1,"pub":"chat","data":{"n":1}}`)
		send(t, a, `{"id":2,"sub":"news"}`)
		send(t, c, `{"id":1,"sub":"news"}`)
		waitWaiting(t, b, 2) // a's pub, c's sub; a's sub waits behind a's pub on its lane

		// The connections waiting on the broker still answer everything else.
		for _, conn := range []*websocket.Conn{a, c} {
			if r := request(t, conn, `{"id":3,"call":"cached"}`); string(r.ID) != "3" || r.Error != nil {
				t.Fatalf("cached call while the broker stalls: %+v", r)
			}
			if r := request(t, conn, `{"id":4,"call":"plain","args":[4]}`); string(r.ID) != "4" || string(r.Result) != "[4]" {
				t.Fatalf("call while the broker stalls: %+v", r)
			}
		}
		echo := dial(t, url+"/echo")
		for i := range 50 {
			msg := fmt.Sprintf("ping %d", i)
			if err := echo.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				t.Fatal(err)
			}
			echo.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, got, err := echo.ReadMessage(); err != nil || string(got) != msg {
				t.Fatalf("echo while the broker stalls: %q, %v", got, err)
			}
		}
		fresh := dial(t, url+"/ws")
		if r := request(t, fresh, `{"id":5,"call":"cached"}`); r.Error != nil {
			t.Fatalf("new connection's cached call while the broker stalls: %+v", r)
		}
		resp, err := http.Get("http" + strings.TrimPrefix(url, "ws") + "/healthz")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("/healthz while the broker stalls: %v %v", resp, err)
		}
		resp.Body.Close()
		if b.waiting.Load() != 2 {
			t.Fatalf("%d broker calls waiting after the checks, want 2: the broker was released early", b.waiting.Load())
		}

		open()
		got := map[string]reply{}
		for len(got) < 2 {
			r := next(t, a)
			got[string(r.ID)] = r
		}
		if !strings.HasPrefix(string(got["1"].Result), `{"seq":1,"epoch":"`) || got["2"].Error != nil {
			t.Fatalf("a's pub and sub once the broker answered: %+v", got)
		}
		if r := next(t, c); string(r.ID) != "1" || r.Error != nil {
			t.Fatalf("c's sub once the broker answered: %+v", r)
		}
		srv.Publish(context.Background(), "news", map[string]int{"n": 7})
		for _, conn := range []*websocket.Conn{a, c} {
			if r := next(t, conn); r.Ch != "news" || string(r.Data) != `{"n":7}` {
				t.Fatalf("publication after the stall: %+v", r)
			}
		}
	})
}

func TestBrokerFailures(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		t.Run("down", func(t *testing.T) {
			b := newGatedBroker()
			_, url := startServer(t, wsgate.Config{Engine: eng, Broker: b})
			c := dial(t, url+"/ws")
			b.setDown(errors.New("broker unreachable"))
			for _, msg := range []string{`{"id":1,"pub":"chat","data":1}`, `{"id":1,"sub":"chat"}`} {
				r := request(t, c, msg)
				if r.Error == nil || r.Error.Code != "unavailable" || !strings.Contains(r.Error.Message, "unreachable") {
					t.Fatalf("%s with the broker down: %+v", msg, r)
				}
			}
			b.setDown(nil)
			if r := request(t, c, `{"id":2,"sub":"chat"}`); r.Error != nil {
				t.Fatalf("sub once the broker is back: %+v", r.Error)
			}
		})
		t.Run("stalled past the call timeout", func(t *testing.T) {
			b := newGatedBroker()
			_, url := startServer(t, wsgate.Config{Engine: eng, Broker: b, CallTimeout: 100 * time.Millisecond})
			c := dial(t, url+"/ws")
			defer b.shut()()
			r := request(t, c, `{"id":1,"pub":"chat","data":1}`)
			if r.Error == nil || r.Error.Code != "timeout" {
				t.Fatalf("pub with the broker stalled: %+v", r)
			}
		})
		t.Run("queue full", func(t *testing.T) {
			b := newGatedBroker()
			_, url := startServer(t, wsgate.Config{Engine: eng, Broker: b})
			c := dial(t, url+"/ws")
			open := b.shut()
			const queued = 1024 // the lane's bound
			for i := range queued + 1 {
				send(t, c, fmt.Sprintf(`{"id":%d,"pub":"chat","data":%d}`, i, i))
			}
			if r := next(t, c); string(r.ID) != fmt.Sprint(queued) || r.Error == nil || r.Error.Code != "rate_limited" {
				t.Fatalf("request past the lane's bound: %+v", r)
			}
			open()
			for i := range queued {
				if r := next(t, c); string(r.ID) != fmt.Sprint(i) || !strings.HasPrefix(string(r.Result), fmt.Sprintf(`{"seq":%d,"epoch":"`, i+1)) {
					t.Fatalf("waiting pub %d answered %+v", i, r)
				}
			}
		})
	})
}

// TestLaneOrder: one connection's broker requests take effect in the
// order sent, though each runs on the lane: publications keep their
// order, and a sub followed at once by an unsub leaves no subscription.
func TestLaneOrder(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, url := startServer(t, wsgate.Config{Engine: eng})
		watcher, pub, flip := dial(t, url+"/ws"), dial(t, url+"/ws"), dial(t, url+"/ws")
		if r := request(t, watcher, `{"id":0,"sub":"order"}`); r.Error != nil {
			t.Fatal(r.Error)
		}
		const n = 50
		for i := 1; i <= n; i++ {
			send(t, pub, fmt.Sprintf(`{"id":%d,"pub":"order","data":%d}`, i, i))
			send(t, flip, fmt.Sprintf(`{"id":%d,"sub":"flip"}`, 2*i))
			send(t, flip, fmt.Sprintf(`{"id":%d,"unsub":"flip"}`, 2*i+1))
		}
		for i := 1; i <= n; i++ {
			r := next(t, watcher)
			if r.Seq != uint64(i) || string(r.Data) != fmt.Sprint(i) {
				t.Fatalf("publication %d arrived as seq %d data %s", i, r.Seq, r.Data)
			}
		}
		for range 2 * n {
			if r := next(t, flip); r.Error != nil {
				t.Fatalf("sub/unsub: %+v", r.Error)
			}
		}
		if _, err := srv.Publish(context.Background(), "flip", 1); err != nil {
			t.Fatal(err)
		}
		if r := request(t, flip, `{"id":"last","call":"no.such"}`); string(r.ID) != `"last"` {
			t.Fatalf("after sub/unsub pairs the connection got %+v: still subscribed", r)
		}
	})
}

// TestLanePubsRunTogether: a connection's pubs on distinct channels wait
// on the broker together (up to 64), a pub on a channel that a running
// pub has waits for it, and a sub waits for every pub before it.
func TestLanePubsRunTogether(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		b := newGatedBroker()
		_, url := startServer(t, wsgate.Config{Engine: eng, Broker: b, CallTimeout: time.Minute})
		c := dial(t, url+"/ws")
		open := b.shut()
		defer open()
		const distinct = 70
		for i := range distinct {
			send(t, c, fmt.Sprintf(`{"id":%d,"pub":"ch%d","data":%d}`, i, i, i))
		}
		send(t, c, `{"id":"again","pub":"ch0","data":"again"}`)
		send(t, c, `{"id":"sub","sub":"ch0"}`)
		waitWaiting(t, b, 64) // the first 64 pubs; the rest wait on the lane
		open()
		answered := map[string]bool{}
		for range distinct + 2 {
			r := next(t, c)
			if r.Error != nil {
				t.Fatalf("%s answered %+v", r.ID, r.Error)
			}
			answered[string(r.ID)] = true
			switch string(r.ID) {
			case `"again"`:
				if !answered["0"] || !strings.HasPrefix(string(r.Result), `{"seq":2,`) {
					t.Fatalf("second pub on ch0 answered %s, first answered: %v", r.Result, answered["0"])
				}
			case `"sub"`:
				if len(answered) != distinct+2 {
					t.Fatalf("sub answered after %d of the %d requests before it", len(answered)-1, distinct+1)
				}
				if !strings.HasPrefix(string(r.Result), `{"seq":2,`) {
					t.Fatalf("sub answered %s, want the position after both pubs on ch0", r.Result)
				}
			}
		}
	})
}

// waitStopping waits until the server at url (ws://…) refuses work: /readyz
// answers 503 once Shutdown has begun.
func waitStopping(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get("http" + strings.TrimPrefix(url, "ws") + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still answers %d", resp.StatusCode)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLaneAtShutdown: when the server stops, a running pub may finish
// and is answered; the requests queued behind it are not run but
// answered unavailable, before the connection is closed.
func TestLaneAtShutdown(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		b := newGatedBroker()
		srv, url := startServer(t, wsgate.Config{Engine: eng, Broker: b, CallTimeout: time.Minute})
		c := dial(t, url+"/ws")
		open := b.shut()
		defer open()
		send(t, c, `{"id":1,"pub":"ch","data":1}`)
		send(t, c, `{"id":2,"pub":"ch","data":2}`)
		send(t, c, `{"id":3,"sub":"other"}`)
		waitWaiting(t, b, 1)
		stopped := make(chan error, 1)
		go func() { stopped <- srv.Shutdown(context.Background()) }()
		waitStopping(t, url)
		open()
		if r := next(t, c); string(r.ID) != "1" || r.Error != nil {
			t.Fatalf("running pub answered %+v", r)
		}
		for _, id := range []string{"2", "3"} {
			if r := next(t, c); string(r.ID) != id || r.Error == nil || r.Error.Code != "unavailable" {
				t.Fatalf("queued request %s answered %+v, want unavailable", id, r)
			}
		}
		if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Fatalf("after the answers: %v, want the Close 1001", err)
		}
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
		if h, _ := b.History(context.Background(), "ch", nil); h.Position.Seq != 1 {
			t.Fatalf("channel at seq %d after shutdown: the queued pub ran", h.Position.Seq)
		}
	})
}
