package wsgate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsgate/wsgate"
)

// countingBackend is a real HTTP backend that counts its calls per method.
type countingBackend struct {
	calls sync.Map // method → *atomic.Int64
}

func (b *countingBackend) count(method string) int64 {
	v, _ := b.calls.LoadOrStore(method, new(atomic.Int64))
	return v.(*atomic.Int64).Load()
}

func (b *countingBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/rpc/")
	v, _ := b.calls.LoadOrStore(method, new(atomic.Int64))
	n := v.(*atomic.Int64).Add(1)
	body, _ := io.ReadAll(r.Body)
	switch method {
	case "quotes.get":
		time.Sleep(50 * time.Millisecond) // expensive work worth caching
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprintf(w, `{"args":%s,"n":%d}`, body, n)
	case "clock.now":
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, `{"n":%d}`, n)
	case "orders.missing":
		http.Error(w, `{"error":{"message":"no such order"}}`, http.StatusNotFound)
	case "me.profile":
		time.Sleep(100 * time.Millisecond) // long enough for concurrent calls to overlap
		w.Header().Set("Cache-Control", "private, max-age=60")
		fmt.Fprintf(w, `{"caller":%d}`, n)
	case "broken":
		w.Write([]byte(`{"not json`))
	default:
		http.Error(w, "boom", http.StatusInternalServerError)
	}
}

func TestCallsThroughTheHTTPBackendAndCache(t *testing.T) {
	t.Parallel()
	be := &countingBackend{}
	upstream := httptest.NewServer(be)
	defer upstream.Close()
	srv, url := startServer(t, wsgate.Config{Backend: upstream.URL + "/rpc"})
	srv.Handle("local", func(context.Context, json.RawMessage) (any, error) { return "from Go", nil })

	c := dial(t, url+"/ws")
	first := request(t, c, `{"id":1,"call":"quotes.get","args":{"s":"ACME","n":1}}`)
	if first.Error != nil || !strings.Contains(string(first.Result), `"n":1`) {
		t.Fatalf("first call: %+v", first)
	}
	// Same args in another key order and spacing: answered from the cache.
	again := request(t, c, `{"id":2,"call":"quotes.get","args":{ "n":1, "s":"ACME" }}`)
	if string(again.Result) != string(first.Result) {
		t.Errorf("cached answer %s, want %s", again.Result, first.Result)
	}
	if n := be.count("quotes.get"); n != 1 {
		t.Errorf("backend called %d times, want 1", n)
	}
	// no-store is never cached.
	request(t, c, `{"id":3,"call":"clock.now"}`)
	request(t, c, `{"id":4,"call":"clock.now"}`)
	if n := be.count("clock.now"); n != 2 {
		t.Errorf("no-store method called %d times, want 2", n)
	}
	for _, tt := range []struct{ msg, code, message string }{
		{`{"id":5,"call":"orders.missing"}`, "not_found", "no such order"},
		{`{"id":6,"call":"broken"}`, "unavailable", ""},
		{`{"id":7,"call":"fails"}`, "unavailable", ""},
	} {
		r := request(t, c, tt.msg)
		if r.Error == nil || r.Error.Code != tt.code || (tt.message != "" && r.Error.Message != tt.message) {
			t.Errorf("%s: got %+v, want %s %q", tt.msg, r.Error, tt.code, tt.message)
		}
	}
	// Errors are not cached.
	request(t, c, `{"id":8,"call":"fails"}`)
	if n := be.count("fails"); n != 2 {
		t.Errorf("failing method called %d times, want 2", n)
	}
	// A Handle'd method wins over the backend.
	if r := request(t, c, `{"id":9,"call":"local"}`); string(r.Result) != `"from Go"` {
		t.Errorf("local handler: %+v", r)
	}
	if n := be.count("local"); n != 0 {
		t.Errorf("backend called for a Handle'd method")
	}
}

func TestConcurrentMissesMakeOneBackendCall(t *testing.T) {
	t.Parallel()
	be := &countingBackend{}
	upstream := httptest.NewServer(be)
	defer upstream.Close()
	_, url := startServer(t, wsgate.Config{Backend: upstream.URL + "/rpc"})
	const conns, perConn = 20, 20
	var wg sync.WaitGroup
	for range conns {
		c := dial(t, url+"/ws")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perConn {
				c.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `{"id":%d,"call":"quotes.get","args":{"s":"COLD"}}`, i))
			}
			for range perConn {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, b, err := c.ReadMessage(); err != nil || !strings.Contains(string(b), `"result"`) {
					t.Errorf("reply %s: %v", b, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := be.count("quotes.get"); n != 1 {
		t.Errorf("%d concurrent calls on one cold key made %d backend calls, want 1", conns*perConn, n)
	}
}

// TestPrivateResultsNotShared: concurrent identical calls from several
// connections whose answer is private (Cache-Control: private) each get
// their own backend call and answer, never another connection's.
func TestPrivateResultsNotShared(t *testing.T) {
	t.Parallel()
	be := &countingBackend{}
	upstream := httptest.NewServer(be)
	defer upstream.Close()
	_, url := startServer(t, wsgate.Config{Backend: upstream.URL + "/rpc"})
	const conns = 8
	cs := make([]*websocket.Conn, conns)
	for i := range cs {
		cs[i] = dial(t, url+"/ws")
	}
	for round := range 2 { // the second round, the method is known to be private
		answers := make([]string, conns)
		var wg sync.WaitGroup
		for i, c := range cs {
			wg.Go(func() {
				c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"call":"me.profile"}`))
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, b, err := c.ReadMessage()
				if err != nil {
					t.Error(err)
				}
				answers[i] = string(b)
			})
		}
		wg.Wait()
		seen := map[string]bool{}
		for _, a := range answers {
			if seen[a] || !strings.Contains(a, `"caller"`) {
				t.Fatalf("round %d: answer %s twice or wrong; answers %v", round, a, answers)
			}
			seen[a] = true
		}
	}
	if n := be.count("me.profile"); n != 2*conns {
		t.Fatalf("%d backend calls for %d private calls, want one each", n, 2*conns)
	}
}

func TestHandlerCacheAndInvalidationAcrossNodes(t *testing.T) {
	t.Parallel()
	broker := wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{}) // shared: two nodes of one cluster
	defer broker.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var runs atomic.Int64
	var nodes [2]*wsgate.Server
	for i := range nodes {
		srv, err := wsgate.New(wsgate.Config{Broker: broker, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		srv.Handle("prices.list", func(_ context.Context, args json.RawMessage) (any, error) {
			return map[string]int64{"run": runs.Add(1)}, nil
		}, wsgate.CacheFor(time.Hour))
		srv.Handle("prices.uncached", func(_ context.Context, args json.RawMessage) (any, error) {
			return runs.Add(1), nil
		})
		nodes[i] = srv
	}
	ts := [2]*httptest.Server{httptest.NewServer(nodes[0].Handler()), httptest.NewServer(nodes[1].Handler())}
	defer ts[0].Close()
	defer ts[1].Close()
	c0 := dial(t, "ws"+strings.TrimPrefix(ts[0].URL, "http")+"/ws")
	c1 := dial(t, "ws"+strings.TrimPrefix(ts[1].URL, "http")+"/ws")

	get := func(c *websocket.Conn, id int) string {
		return string(request(t, c, fmt.Sprintf(`{"id":%d,"call":"prices.list","args":{"cur":"EUR"}}`, id)).Result)
	}
	a, b := get(c0, 1), get(c1, 2)
	if get(c0, 3) != a || get(c1, 4) != b {
		t.Fatal("results not cached on each node")
	}
	if n, err := nodes[0].InvalidateCache("prices.list", map[string]string{"cur": "EUR"}); err != nil || n != 1 {
		t.Fatalf("InvalidateCache = %d, %v; want 1 entry dropped", n, err)
	}
	if get(c0, 5) == a {
		t.Error("node 0 still answers from the invalidated entry")
	}
	if get(c1, 6) == b {
		t.Error("node 1 did not drop the entry invalidated on node 0")
	}
	// By prefix, through the API of node 1.
	before := get(c0, 7)
	if n, err := nodes[1].InvalidateCachePrefix("prices."); err != nil || n != 1 {
		t.Fatalf("InvalidateCachePrefix = %d, %v", n, err)
	}
	if get(c0, 8) == before {
		t.Error("prefix invalidation on node 1 did not reach node 0")
	}
	// A handler without CacheFor runs every time.
	r1 := request(t, c0, `{"id":9,"call":"prices.uncached"}`)
	r2 := request(t, c0, `{"id":10,"call":"prices.uncached"}`)
	if string(r1.Result) == string(r2.Result) {
		t.Error("a handler without CacheFor was cached")
	}
}

func TestAPICacheInvalidate(t *testing.T) {
	t.Parallel()
	srv, url := startServer(t, wsgate.Config{APIKey: "k"})
	var runs atomic.Int64
	srv.Handle("a.b", func(context.Context, json.RawMessage) (any, error) { return runs.Add(1), nil }, wsgate.CacheFor(time.Hour))
	c := dial(t, url+"/ws")
	request(t, c, `{"id":1,"call":"a.b","args":[1]}`)
	post := func(body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, "http"+strings.TrimPrefix(url, "ws")+"/api/cache/invalidate", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer k")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	for _, tt := range []struct {
		body string
		code int
		want string
	}{
		{`{"method":"a.b","args":[2]}`, 200, `{"dropped":0}`},
		{`{"method":"a.b","args":[1]}`, 200, `{"dropped":1}`},
		{`{"prefix":"a."}`, 200, `{"dropped":0}`},
		{`{}`, 400, ``},
		{`{"method":"a.b","prefix":"a"}`, 400, ``},
	} {
		code, body := post(tt.body)
		if code != tt.code || (tt.want != "" && body != tt.want) {
			t.Errorf("%s: %d %s, want %d %s", tt.body, code, body, tt.code, tt.want)
		}
	}
}
