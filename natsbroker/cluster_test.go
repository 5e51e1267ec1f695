package natsbroker

import (
	"fmt"
	"sync"
	"testing"
)

// checkRun checks that pubs are publications on ch numbered from first
// on, one by one, in one epoch.
func checkRun(t *testing.T, who string, pubs []message, ch string, first uint64) {
	t.Helper()
	for i, p := range pubs {
		if p.Ch != ch || p.Seq != first+uint64(i) {
			t.Fatalf("%s: publication %d is %s seq %d, want %s seq %d", who, i, p.Ch, p.Seq, ch, first+uint64(i))
		}
	}
}

// TestFanOutAcrossNodes: a publication on A reaches subscribers on A, B
// and C once each, in order, with the same seq.
func TestFanOutAcrossNodes(t *testing.T) {
	t.Parallel()
	ns := startNATS(t, t.TempDir(), -1)
	nodes := []*node{startNode(t, ns.ClientURL(), Options{}), startNode(t, ns.ClientURL(), Options{}), startNode(t, ns.ClientURL(), Options{})}
	const ch, n = "room.fan-out", 30
	var subs []*client
	for _, nd := range nodes {
		c := dial(t, nd.ws)
		if p, _ := c.sub(ch, nil); p.Seq != 0 {
			t.Fatalf("new channel at seq %d", p.Seq)
		}
		subs = append(subs, c)
	}
	pub := dial(t, nodes[0].ws)
	for i := 1; i <= n; i++ {
		if seq := pub.pub(ch, fmt.Sprint(i)); seq != uint64(i) {
			t.Fatalf("pub %d got seq %d", i, seq)
		}
	}
	for i, c := range subs {
		got := c.publications(n)
		checkRun(t, fmt.Sprintf("node %d", i), got, ch, 1)
		for j, p := range got {
			if string(p.Data) != fmt.Sprint(j+1) {
				t.Fatalf("node %d: publication %d has data %s", i, j, p.Data)
			}
		}
	}
	// Once: a last publication comes next, nothing in between.
	pub.pub(ch, `"last"`)
	for i, c := range subs {
		if p := c.read(); p.Seq != n+1 || string(p.Data) != `"last"` {
			t.Fatalf("node %d: after %d publications got %+v", i, n, p)
		}
	}
}

// TestConcurrentPublishersOneOrder: publishers on A and B at once to one
// channel; every subscriber, on A, B and C, sees the same publications in
// the same order with the same seq, 1 to n without a gap.
func TestConcurrentPublishersOneOrder(t *testing.T) {
	t.Parallel()
	ns := startNATS(t, t.TempDir(), -1)
	nodes := []*node{startNode(t, ns.ClientURL(), Options{}), startNode(t, ns.ClientURL(), Options{}), startNode(t, ns.ClientURL(), Options{})}
	const ch, each = "race", 60
	var subs []*client
	for _, nd := range nodes {
		c := dial(t, nd.ws)
		c.sub(ch, nil)
		subs = append(subs, c)
	}
	var wg sync.WaitGroup
	for w, nd := range nodes[:2] {
		pubs := []*client{dial(t, nd.ws), dial(t, nd.ws)} // two connections per node: publishes race on the node too
		for k, c := range pubs {
			wg.Go(func() {
				for i := range each {
					c.pub(ch, fmt.Sprintf(`"%d-%d-%d"`, w, k, i))
				}
			})
		}
	}
	wg.Wait()
	const n = 4 * each
	var first []message
	for i, c := range subs {
		got := c.publications(n)
		checkRun(t, fmt.Sprintf("node %d", i), got, ch, 1)
		if i == 0 {
			first = got
			continue
		}
		for j := range got {
			if string(got[j].Data) != string(first[j].Data) {
				t.Fatalf("node %d: publication %d is %s, node 0 had %s", i, j+1, got[j].Data, first[j].Data)
			}
		}
	}
	if st := nodes[0].b.Stats(); st.Published == 0 {
		t.Errorf("node 0 published nothing: %+v", st)
	}
}
