package client_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/wsgate/wsgate/client"
)

// TestSelectionCost times how long choosing takes among 3 and among 30
// nodes (each its own seed, behind a proxy adding 2 ms each way), and
// counts the requests: every node is timed Probes times, the probes of
// one node one after the other, the nodes in parallel.
func TestSelectionCost(t *testing.T) {
	t.Parallel()
	for _, n := range []int{3, 30} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			nodes := make([]*node, n)
			seeds := make([]string, n)
			for i := range nodes {
				nodes[i] = startNode(t, nil, 2*time.Millisecond)
				seeds[i] = nodes[i].url
			}
			start := time.Now()
			found, choice, err := client.Survey(ctxGuard(t), seeds, client.Options{})
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if len(found) != n || choice == "" {
				t.Fatalf("found %d nodes, choice %q; want %d and a choice", len(found), choice, n)
			}
			probes := int64(0)
			for _, nd := range nodes {
				if p := nd.probes.Load(); p != 3 {
					t.Errorf("node %s probed %d times, want 3", nd.url, p)
				}
				probes += nd.probes.Load()
			}
			t.Logf("%d nodes: chosen in %v with %d probes and up to %d /edge/nodes requests (one per seed)", n, took.Round(time.Millisecond), probes, n)
		})
	}
}
