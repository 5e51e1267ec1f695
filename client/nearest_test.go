package client_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/client"
)

// TestDialPicksNearest: of three nodes behind proxies of different
// delays, the client connects to the nearest, whatever the seeds' order.
// The nodes have no /edge/* yet, so they are timed with /healthz.
func TestDialPicksNearest(t *testing.T) {
	t.Parallel()
	far := startNode(t, nil, 80*time.Millisecond)
	mid := startNode(t, nil, 40*time.Millisecond)
	near := startNode(t, nil, 0)
	r := newRecorder()
	c := dial(t, []string{far.url, mid.url, near.url}, fast(r))
	if got := c.Node(); got != near.url {
		t.Fatalf("Node() = %q once Dial returned, want the nearest, %s (far %s, mid %s)", got, near.url, far.url, mid.url)
	}
	if got := r.firstNode(t); got != near.url {
		t.Fatalf("connected to %s, want the nearest, %s (far %s, mid %s)", got, near.url, far.url, mid.url)
	}
	near.kill()
	r.wait(t, "the loss of the nearest", func() bool { return r.count(client.StateDisconnected) > 0 })
	if got := c.Node(); got != "" && got != mid.url {
		t.Fatalf("Node() = %q after the nearest died, want \"\" or the next, %s", got, mid.url)
	}
	for _, n := range []*node{far, mid, near} {
		if n.probes.Load() < 3 {
			t.Errorf("node %s was probed %d times, want at least 3", n.url, n.probes.Load())
		}
	}
}

// TestReprobeNoFlap: with two nodes equally near, re-probing many times
// never moves the client.
func TestReprobeNoFlap(t *testing.T) {
	t.Parallel()
	a := startNode(t, nil, 10*time.Millisecond)
	b := startNode(t, nil, 10*time.Millisecond)
	r := newRecorder()
	opts := fast(r)
	opts.ReprobeInterval = 10 * time.Millisecond
	// The default margin is 20 ms; noise on a loaded test machine can
	// reach that, and this test is about the rule, not the figure.
	opts.SwitchMargin = 100 * time.Millisecond
	dial(t, []string{a.url, b.url}, opts)
	r.firstNode(t)
	const rounds = 8
	eventually(t, "re-probes", func() bool {
		return a.probes.Load() >= 3*(rounds+1) && b.probes.Load() >= 3*(rounds+1)
	})
	if got := r.connectedTo(); len(got) != 1 {
		t.Fatalf("connections %v: want one, kept through %d re-probes", got, rounds)
	}
}

// TestReprobeMovesToNearer: when the node in use becomes clearly farther
// than another, a re-probe moves the client, and its subscription goes
// on without a loss or a duplicate; a call waiting on the old
// connection is still answered.
func TestReprobeMovesToNearer(t *testing.T) {
	t.Parallel()
	broker := wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{})
	t.Cleanup(func() { broker.Close() })
	a := startNode(t, broker, 0)
	b := startNode(t, broker, 100*time.Millisecond)
	r := newRecorder()
	opts := fast(r)
	opts.ReprobeInterval = 20 * time.Millisecond
	started, release := make(chan struct{}, 1), make(chan struct{})
	a.srv.Handle("slow", func(ctx context.Context, args json.RawMessage) (any, error) {
		started <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return "late", nil
	})
	c := dial(t, []string{b.url, a.url}, opts)
	subscribe(t, c, "ticks", r)
	if got := r.firstNode(t); got != a.url {
		t.Fatalf("connected to %v, want %s", got, a.url)
	}
	a.publish(t, "ticks", 1, 10)
	r.waitPublications(t, 10)
	slow := make(chan error, 1)
	go func() {
		_, err := c.Call(ctxGuard(t), "slow", nil)
		slow <- err
	}()
	<-started

	a.proxy.SetDelay(100 * time.Millisecond)
	b.proxy.SetDelay(0)
	r.wait(t, "the move", func() bool { return len(r.connectedTo()) == 2 })
	if got := r.connectedTo(); got[1] != b.url {
		t.Fatalf("moved to %s, want %s", got[1], b.url)
	}
	a.publish(t, "ticks", 11, 20)
	r.waitPublications(t, 20)
	r.checkExactlyOnce(t, 20)
	// The call made on the old connection is answered there.
	close(release)
	if err := <-slow; err != nil {
		t.Errorf("call across the move: %v", err)
	}
	if n := r.count(client.StateDisconnected); n != 0 {
		t.Errorf("%d StateDisconnected events for a planned move, want 0", n)
	}
}

// TestReprobeLeavesDrainingNode: a node whose /edge/ping says it drains
// is left for another, even a farther one, at the next re-probe.
func TestReprobeLeavesDrainingNode(t *testing.T) {
	t.Parallel()
	broker := wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{})
	t.Cleanup(func() { broker.Close() })
	near := startNode(t, broker, 0)
	far := startNode(t, broker, 60*time.Millisecond)
	near.ping.Store([]byte(`{"node":"near","region":"here","conns":1,"draining":false}`))
	far.ping.Store([]byte(`{"node":"far","region":"there","conns":0,"draining":false}`))
	r := newRecorder()
	opts := fast(r)
	opts.ReprobeInterval = 20 * time.Millisecond
	c := dial(t, []string{far.url, near.url}, opts)
	subscribe(t, c, "ticks", r)
	if got := r.firstNode(t); got != near.url {
		t.Fatalf("connected to %v, want %s", got, near.url)
	}
	near.publish(t, "ticks", 1, 5)
	r.waitPublications(t, 5)
	near.ping.Store([]byte(`{"node":"near","region":"here","conns":1,"draining":true}`))
	r.wait(t, "the move", func() bool { return len(r.connectedTo()) == 2 })
	if got := r.connectedTo(); got[1] != far.url {
		t.Fatalf("moved to %s, want %s", got[1], far.url)
	}
	near.publish(t, "ticks", 6, 10)
	r.waitPublications(t, 10)
	r.checkExactlyOnce(t, 10)
}

// TestDiscovery: the client asks the seeds for /edge/nodes (a dead seed
// is no matter), probes the nodes listed and the seeds, takes a node
// listed without a URL and a seed with the same id in /edge/ping for one
// node, and never picks a draining node.
func TestDiscovery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		seedDraining bool
		listOther    bool // the list names the other node; else only the seed, which names it as a seed
		wantSeed     bool // else the other node
	}{
		{"the seed, nearest, listed without a URL", false, true, true},
		{"the seed draining: the other node, learnt from the list", true, true, false},
		{"the seed draining: the other node, a seed the list lacks", true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			broker := wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{})
			t.Cleanup(func() { broker.Close() })
			other := startNode(t, broker, 60*time.Millisecond)
			seed := startNode(t, broker, 0)
			dead := startNode(t, nil, 0)
			dead.kill()
			list := []map[string]any{{"node": "seed", "region": "here", "url": "", "conns": 0, "draining": tt.seedDraining}}
			seeds := []string{dead.url, seed.url}
			if tt.listOther {
				list = append(list, map[string]any{"node": "other", "region": "there", "url": other.url + "/", "conns": 7})
			} else {
				seeds = append(seeds, other.url)
			}
			listing, _ := json.Marshal(list)
			seed.nodes.Store(listing)
			seed.ping.Store([]byte(`{"node":"seed","region":"here","conns":0}`))
			r := newRecorder()
			dial(t, seeds, fast(r))
			want := other.url
			if tt.wantSeed {
				want = seed.url
			}
			if got := r.firstNode(t); got != want {
				t.Fatalf("connected to %s, want %s", got, want)
			}
			if other.probes.Load() == 0 {
				t.Error("the other node was not probed")
			}
		})
	}
}

// TestStateFile: a restarted client goes back to the node it used last
// when no other is clearly nearer, and writes the node it connects to.
func TestStateFile(t *testing.T) {
	t.Parallel()
	a := startNode(t, nil, 5*time.Millisecond)
	b := startNode(t, nil, 5*time.Millisecond)
	dir := t.TempDir()
	connect := func(path string) string {
		r := newRecorder()
		opts := fast(r)
		opts.StateFile = path
		opts.SwitchMargin = 100 * time.Millisecond // a loaded machine's noise must not decide
		c := dial(t, []string{b.url, a.url}, opts)
		node := r.firstNode(t)
		c.Close()
		return node
	}
	saved := func(path string) string {
		var s struct{ Node string }
		b, _ := os.ReadFile(path)
		json.Unmarshal(b, &s)
		return s.Node
	}
	for _, n := range []*node{a, b} {
		path := filepath.Join(dir, "remembered-"+strings.TrimPrefix(n.url, "http://127.0.0.1:"))
		os.WriteFile(path, []byte(`{"node":"`+n.url+`"}`), 0o600)
		if got := connect(path); got != n.url {
			t.Errorf("remembering %s: connected to %s", n.url, got)
		}
	}
	path := filepath.Join(dir, "fresh")
	got := connect(path)
	if s := saved(path); s != got {
		t.Errorf("state file names %q, want %q, the node connected to", s, got)
	}
}
