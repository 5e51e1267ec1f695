package edge

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// ids returns the ids of nodes, in order.
func ids(nodes []Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.ID
	}
	return out
}

// waitFor polls cond until it holds; the deadline only guards against a
// hang and is never what a test measures.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// startCluster starts n registries on one memBus: node-0 in region r-0,
// and so on. It closes them when the test ends.
func startCluster(t *testing.T, n int, interval time.Duration) ([]*Registry, []*link) {
	t.Helper()
	bus := newMemBus()
	regs := make([]*Registry, n)
	links := make([]*link, n)
	for i := range regs {
		links[i] = bus.join()
		conns := 10 * (i + 1)
		r, err := New(Options{
			Self:     Node{ID: fmt.Sprintf("node-%d", i), Region: fmt.Sprintf("r-%d", n-i), URL: fmt.Sprintf("http://node-%d:8080", i)},
			Status:   func() Status { return Status{Conns: conns, Load: float64(conns) / 1000} },
			Bus:      links[i],
			Interval: interval,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Close)
		regs[i] = r
	}
	return regs, links
}

func listsExactly(r *Registry, want ...string) bool {
	got := ids(r.Nodes())
	slices.Sort(got)
	slices.Sort(want)
	return slices.Equal(got, want)
}

// TestEveryNodeListsEveryNode: three nodes on one bus list all three, in
// one order, with each one's figures; a node that leaves is gone from
// the others' lists when Close returns. Heartbeats are a minute apart, so
// the nodes learn of each other from the early heartbeat a newcomer
// causes, and nobody expires during the test.
func TestEveryNodeListsEveryNode(t *testing.T) {
	t.Parallel()
	regs, _ := startCluster(t, 3, time.Minute)
	for i, r := range regs {
		waitFor(t, fmt.Sprintf("node-%d lists all three", i), func() bool { return listsExactly(r, "node-0", "node-1", "node-2") })
	}
	want := []Node{
		{ID: "node-2", Region: "r-1", URL: "http://node-2:8080", Conns: 30, Load: 0.03},
		{ID: "node-1", Region: "r-2", URL: "http://node-1:8080", Conns: 20, Load: 0.02},
		{ID: "node-0", Region: "r-3", URL: "http://node-0:8080", Conns: 10, Load: 0.01},
	}
	for i, r := range regs {
		if got := r.Nodes(); !slices.Equal(got, want) {
			t.Errorf("node-%d lists %+v, want %+v", i, got, want)
		}
	}

	regs[1].Close()
	for i, r := range []*Registry{regs[0], regs[2]} {
		if !listsExactly(r, "node-0", "node-2") {
			t.Errorf("after node-1 left, node-%d lists %v", 2*i, ids(r.Nodes()))
		}
	}
}

// TestCrashedNodeExpires: a node whose heartbeats stop without a leaving
// one (its link cut, as in a crash) is forgotten once its TTL passes.
func TestCrashedNodeExpires(t *testing.T) {
	t.Parallel()
	regs, links := startCluster(t, 3, 20*time.Millisecond)
	for i, r := range regs {
		waitFor(t, fmt.Sprintf("node-%d lists all three", i), func() bool { return listsExactly(r, "node-0", "node-1", "node-2") })
	}
	links[2].cut.Store(true)
	for i, r := range regs[:2] {
		waitFor(t, fmt.Sprintf("node-%d forgets node-2", i), func() bool { return listsExactly(r, "node-0", "node-1") })
	}
}

// clock is a settable time source for expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func heartbeat(t *testing.T, h Heartbeat) []byte {
	t.Helper()
	b, err := AppendHeartbeat(nil, h)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExpiry applies heartbeats at set times and checks, at another
// time, whether the peer is listed: each heartbeat holds its peer for
// its own TTL, and a leaving one drops it at once.
func TestExpiry(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	beat := func(ttl time.Duration) Heartbeat { return Heartbeat{Node: Node{ID: "peer"}, TTL: ttl} }
	type event struct {
		at time.Duration
		h  Heartbeat
	}
	tests := []struct {
		name   string
		events []event
		at     time.Duration
		listed bool
	}{
		{"none", nil, 0, false},
		{"just heard", []event{{0, beat(6 * time.Second)}}, 0, true},
		{"within ttl", []event{{0, beat(6 * time.Second)}}, 6*time.Second - time.Nanosecond, true},
		{"at ttl", []event{{0, beat(6 * time.Second)}}, 6 * time.Second, false},
		{"renewed", []event{{0, beat(6 * time.Second)}, {5 * time.Second, beat(6 * time.Second)}}, 10 * time.Second, true},
		{"renewal expired", []event{{0, beat(6 * time.Second)}, {5 * time.Second, beat(6 * time.Second)}}, 11 * time.Second, false},
		{"the peer's own ttl counts", []event{{0, beat(50 * time.Second)}}, 40 * time.Second, true},
		{"shorter ttl", []event{{0, beat(time.Second)}}, time.Second, false},
		{"left", []event{{0, beat(6 * time.Second)}, {time.Second, Heartbeat{Node: Node{ID: "peer"}, Leaving: true, TTL: time.Second}}}, time.Second, false},
		{"back after leaving", []event{{0, beat(6 * time.Second)}, {time.Second, Heartbeat{Node: Node{ID: "peer"}, Leaving: true, TTL: time.Second}}, {2 * time.Second, beat(6 * time.Second)}}, 2 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &clock{t: t0}
			r, err := New(Options{Self: Node{ID: "self"}, now: c.now})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range tt.events {
				c.set(t0.Add(e.at))
				r.apply(heartbeat(t, e.h))
			}
			c.set(t0.Add(tt.at))
			want := []string{"self"}
			if tt.listed {
				want = []string{"peer", "self"}
			}
			if got := ids(r.Nodes()); !slices.Equal(got, want) {
				t.Errorf("lists %v, want %v", got, want)
			}
		})
	}
}

// TestApplyIgnores: what a bus may carry that must not change the list.
func TestApplyIgnores(t *testing.T) {
	t.Parallel()
	r, err := New(Options{Self: Node{ID: "self", URL: "http://self:8080"}, Status: func() Status { return Status{Conns: 1} }})
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range [][]byte{
		nil,
		[]byte(`{"node":"peer"}`),
		[]byte(`{"node":"peer","load":2,"ttl":6000}`),
		heartbeat(t, Heartbeat{Node: Node{ID: "self", URL: "http://self:8080", Conns: 99}, TTL: time.Second}),     // its own, echoed
		heartbeat(t, Heartbeat{Node: Node{ID: "self", URL: "http://impostor:8080", Conns: 99}, TTL: time.Second}), // another with its id
		heartbeat(t, Heartbeat{Node: Node{ID: "gone"}, Leaving: true, TTL: time.Second}),                          // never known
	} {
		r.apply(data)
	}
	if got, want := r.Nodes(), []Node{{ID: "self", URL: "http://self:8080", Conns: 1}}; !slices.Equal(got, want) {
		t.Errorf("lists %+v, want %+v", got, want)
	}
}

// TestMaxPeers: past MaxPeers new nodes are ignored until some expire.
func TestMaxPeers(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)}
	r, err := New(Options{Self: Node{ID: "self"}, MaxPeers: 2, now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c"} {
		r.apply(heartbeat(t, Heartbeat{Node: Node{ID: id}, TTL: time.Second}))
	}
	if got := ids(r.Nodes()); !slices.Equal(got, []string{"a", "b", "self"}) {
		t.Errorf("lists %v, want a, b, self", got)
	}
	r.apply(heartbeat(t, Heartbeat{Node: Node{ID: "a", Conns: 5}, TTL: time.Second})) // known: still renewed
	if got := r.Nodes()[0]; got.Conns != 5 {
		t.Errorf("a known peer was not renewed at the cap: %+v", got)
	}
	c.set(c.now().Add(time.Second))
	r.apply(heartbeat(t, Heartbeat{Node: Node{ID: "c"}, TTL: time.Second}))
	if got := ids(r.Nodes()); !slices.Equal(got, []string{"c", "self"}) {
		t.Errorf("after expiry lists %v, want c, self", got)
	}
}

// TestSingleNode: without a bus a registry lists itself, with its Status
// now, and runs nothing to stop.
func TestSingleNode(t *testing.T) {
	t.Parallel()
	var st Status
	var mu sync.Mutex
	r, err := New(Options{
		Self:   Node{ID: "solo", Region: "eu", URL: "https://solo.example.com", Conns: 7, Load: 0.5, Draining: true}, // figures ignored
		Status: func() Status { mu.Lock(); defer mu.Unlock(); return st },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tests := []struct {
		st   Status
		want Node
	}{
		{Status{}, Node{ID: "solo", Region: "eu", URL: "https://solo.example.com"}},
		{Status{Conns: 3, Load: 0.25}, Node{ID: "solo", Region: "eu", URL: "https://solo.example.com", Conns: 3, Load: 0.25}},
		{Status{Conns: -1, Load: 7, Draining: true}, Node{ID: "solo", Region: "eu", URL: "https://solo.example.com", Load: 1, Draining: true}},
	}
	for _, tt := range tests {
		mu.Lock()
		st = tt.st
		mu.Unlock()
		if got := r.Nodes(); !slices.Equal(got, []Node{tt.want}) {
			t.Errorf("status %+v: lists %+v, want %+v", tt.st, got, tt.want)
		}
	}
	r.Leave()
	r.Close()
	if got := ids(r.Nodes()); !slices.Equal(got, []string{"solo"}) {
		t.Errorf("after Close lists %v", got)
	}
}

func TestNewRefusesBadSelf(t *testing.T) {
	t.Parallel()
	for _, self := range []Node{{}, {ID: "a b"}, {ID: "a", Region: "eu west"}, {ID: "a", URL: "ftp://a"}} {
		if r, err := New(Options{Self: self}); err == nil {
			r.Close()
			t.Errorf("New accepted %+v", self)
		}
	}
}

// TestPeerBackAfterExpiryIsNew: a peer heard again after its heartbeat
// expired (a healed partition) is a newcomer: this node answers with an
// early heartbeat so the peer relearns it.
func TestPeerBackAfterExpiryIsNew(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)}
	bus := newMemBus()
	var mu sync.Mutex
	heard := 0 // heartbeats of self
	cancel, _ := bus.join().Watch(func(data []byte) {
		if h, err := DecodeHeartbeat(data); err == nil && h.ID == "self" && !h.Leaving {
			mu.Lock()
			heard++
			mu.Unlock()
		}
	})
	defer cancel()
	heardAtLeast := func(n int) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return heard >= n }
	}
	// Heartbeats a minute apart: each one heard here is the first, or an
	// early one.
	r, err := New(Options{Self: Node{ID: "self"}, Bus: bus.join(), Interval: time.Minute, now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	waitFor(t, "the first heartbeat", heardAtLeast(1))
	peer := bus.join()
	peer.Announce(heartbeat(t, Heartbeat{Node: Node{ID: "peer"}, TTL: time.Second}))
	waitFor(t, "an early heartbeat for the newcomer", heardAtLeast(2))
	c.set(c.now().Add(time.Second)) // the peer expires
	peer.Announce(heartbeat(t, Heartbeat{Node: Node{ID: "peer"}, TTL: time.Second}))
	waitFor(t, "an early heartbeat for the returning peer", heardAtLeast(3))
}
