package client_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wsgate/wsgate"
)

// cutter is an Options.NetDial that keeps the connections it opens, so
// that the test can reset them, and refuses to dial while down is set.
type cutter struct {
	down  atomic.Bool
	dials atomic.Int64
	mu    sync.Mutex
	conns []net.Conn
}

func (c *cutter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c.dials.Add(1)
	if c.down.Load() {
		return nil, errors.New("refused by the test")
	}
	nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err == nil {
		c.mu.Lock()
		c.conns = append(c.conns, nc)
		c.mu.Unlock()
	}
	return nc, err
}

// cut resets every connection dialed so far: a TCP RST, no Close frame.
func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, nc := range c.conns {
		nc.(*net.TCPConn).SetLinger(0)
		nc.Close()
	}
	c.conns = nil
}

// TestNetDial: every connection the client makes, probes and WebSocket
// alike, goes through Options.NetDial; connections it opened and then
// reset while it refuses to dial are resumed once it dials again, with
// every publication once, in order.
func TestNetDial(t *testing.T) {
	t.Parallel()
	n := startNode(t, nil, 0)
	r := newRecorder()
	var cu cutter
	opts := fast(r)
	opts.NetDial = cu.dial
	c := dial(t, []string{n.url}, opts)
	subscribe(t, c, "ticks", r)
	if d := cu.dials.Load(); d < 2 || n.probes.Load() == 0 {
		t.Fatalf("%d dials through NetDial and %d probes served; want the probes' and the WebSocket's", d, n.probes.Load())
	}

	n.publish(t, "ticks", 1, 10)
	r.waitPublications(t, 10)
	cu.down.Store(true)
	before := cu.dials.Load()
	cu.cut()
	r.wait(t, "the disconnection", r.disconnected)
	n.publish(t, "ticks", 11, 30) // missed: to be replayed
	eventually(t, "a refused dial", func() bool { return cu.dials.Load() > before })
	cu.down.Store(false)
	r.wait(t, "the reconnection", func() bool { return len(r.connectedTo()) == 2 })
	n.publish(t, "ticks", 31, 40)
	r.waitPublications(t, 40)
	r.checkExactlyOnce(t, 40)
}

// TestDialTLS: an https node is reached through NetDial, with TLS on top
// of what it returns, for the probes and the WebSocket alike.
func TestDialTLS(t *testing.T) {
	t.Parallel()
	srv, err := wsgate.New(wsgate.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(srv.Handler())
	t.Cleanup(func() { srv.Close(); ts.Close() })
	var dials atomic.Int64
	r := newRecorder()
	opts := fast(r)
	opts.TLSConfig = ts.Client().Transport.(*http.Transport).TLSClientConfig
	opts.NetDial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	c := dial(t, []string{ts.URL}, opts)
	subscribe(t, c, "ticks", r)
	if _, err := srv.Publish(ctxGuard(t), "ticks", map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	r.waitPublications(t, 1)
	if d := dials.Load(); d < 2 {
		t.Fatalf("%d dials through NetDial, want the probes' and the WebSocket's", d)
	}
}
