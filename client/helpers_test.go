package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/client"
	"github.com/wsgate/wsgate/internal/delayproxy"
)

// hangGuard bounds every wait in these tests. It is no timing assert:
// a wait that takes this long means the test hangs.
const hangGuard = 30 * time.Second

// node is a wsgate Server on a loopback listener behind a delay proxy;
// clients reach it at url, the proxy's address, so the test can delay
// its traffic or cut its connections.
type node struct {
	srv    *wsgate.Server
	ts     *httptest.Server
	proxy  *delayproxy.Proxy
	url    string
	refuse atomic.Bool  // /ws answers 503 while set
	nodes  atomic.Value // []byte: the answer to /edge/nodes, when set
	ping   atomic.Value // []byte: the answer to /edge/ping, when set
	probes atomic.Int64 // GET /healthz and /edge/ping served
	stop   sync.Once
}

// startNode starts a node on broker (nil: a broker of its own) with
// delay added each way; it stops when the test ends.
func startNode(t *testing.T, broker wsgate.Broker, delay time.Duration) *node {
	t.Helper()
	return startNodeWith(t, wsgate.Config{Broker: broker}, delay)
}

func startNodeWith(t *testing.T, cfg wsgate.Config, delay time.Duration) *node {
	t.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := wsgate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{srv: srv}
	h := srv.Handler()
	n.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ws":
			if n.refuse.Load() {
				http.Error(w, "refused by the test", http.StatusServiceUnavailable)
				return
			}
		case "/healthz", "/edge/ping":
			n.probes.Add(1)
			if b, ok := n.ping.Load().([]byte); ok && r.URL.Path == "/edge/ping" {
				w.Header().Set("Cache-Control", "no-store")
				w.Write(b)
				return
			}
		case "/edge/nodes":
			if b, ok := n.nodes.Load().([]byte); ok {
				w.Write(b)
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	n.proxy, err = delayproxy.New(n.ts.Listener.Addr().String(), delay)
	if err != nil {
		t.Fatal(err)
	}
	n.url = n.proxy.URL()
	t.Cleanup(n.kill)
	return n
}

// kill stops the node at once: its connections drop without a Close.
func (n *node) kill() {
	n.stop.Do(func() {
		n.proxy.Close()
		n.srv.Close()
		n.ts.Close()
	})
}

// publish publishes {"n":i} on channel for i in [from, to] through the
// node's Server.
func (n *node) publish(t *testing.T, channel string, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		if _, err := n.srv.Publish(context.Background(), channel, map[string]int{"n": i}); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
}

// recorder keeps what a Client's handler and OnState were given.
type recorder struct {
	mu      sync.Mutex
	msgs    []client.Message
	states  []client.StateEvent
	changed chan struct{} // capacity 1
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) handle(m client.Message) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
	r.signal()
}

func (r *recorder) onState(e client.StateEvent) {
	r.mu.Lock()
	r.states = append(r.states, e)
	r.mu.Unlock()
	r.signal()
}

func (r *recorder) signal() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// wait waits until cond is true. cond is called without r's lock: it
// uses r's methods.
func (r *recorder) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(hangGuard)
	for {
		if cond() {
			return
		}
		select {
		case <-r.changed:
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("gave up waiting for %s; states %v; %d messages", what, r.states, len(r.msgs))
		}
	}
}

// waitPublications waits until the last publication has seq n.
func (r *recorder) waitPublications(t *testing.T, n uint64) {
	t.Helper()
	r.wait(t, fmt.Sprintf("publication %d", n), func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for i := len(r.msgs) - 1; i >= 0; i-- {
			if r.msgs[i].Kind == client.KindPublication {
				return r.msgs[i].Pos.Seq >= n
			}
		}
		return false
	})
}

// len returns how many messages were recorded.
func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// count returns how many state events of kind s were seen.
func (r *recorder) count(s client.State) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.states {
		if e.State == s {
			n++
		}
	}
	return n
}

// disconnected reports whether the last state event is not
// StateConnected.
func (r *recorder) disconnected() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.states) > 0 && r.states[len(r.states)-1].State != client.StateConnected
}

// firstNode waits for the first StateConnected event and returns its
// node. (Dial and Subscribe may return before the dispatcher has passed
// it on.)
func (r *recorder) firstNode(t *testing.T) string {
	t.Helper()
	r.wait(t, "the first connection", func() bool { return len(r.connectedTo()) > 0 })
	return r.connectedTo()[0]
}

// connectedTo returns the nodes of the StateConnected events, in order.
func (r *recorder) connectedTo() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var nodes []string
	for _, e := range r.states {
		if e.State == client.StateConnected {
			nodes = append(nodes, e.Node)
		}
	}
	return nodes
}

// checkExactlyOnce checks that the publications recorded are {"n":i}
// with seq i, for i from 1 to n, each once, in order, with no gap.
func (r *recorder) checkExactlyOnce(t *testing.T, n int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	want := 1
	for _, m := range r.msgs {
		if m.Kind != client.KindPublication {
			t.Fatalf("got a %v message: %+v", m.Kind, m)
		}
		var d struct{ N int }
		if err := json.Unmarshal(m.Data, &d); err != nil {
			t.Fatalf("data %s: %v", m.Data, err)
		}
		if m.Pos.Seq != uint64(want) || d.N != want {
			t.Fatalf("publication %d: got seq %d with n=%d", want, m.Pos.Seq, d.N)
		}
		want++
	}
	if want != n+1 {
		t.Fatalf("got %d publications, want %d", want-1, n)
	}
}

// fast are Options for tests: short backoffs, no re-probing.
func fast(r *recorder) client.Options {
	return client.Options{
		BackoffMin:      10 * time.Millisecond,
		BackoffMax:      100 * time.Millisecond,
		ReprobeInterval: -1,
		OnState:         r.onState,
	}
}

// dial dials seeds and closes the Client when the test ends.
func dial(t *testing.T, seeds []string, opts client.Options) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	c, err := client.Dial(ctx, seeds, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// subscribe subscribes c to channel with r's handler.
func subscribe(t *testing.T, c *client.Client, channel string, r *recorder) *client.Subscription {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	s, err := c.Subscribe(ctx, channel, r.handle)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	return s
}

func ctxGuard(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it is true.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
