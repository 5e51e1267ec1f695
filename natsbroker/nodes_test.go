package natsbroker

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
)

// ids returns the ids of the nodes srv lists.
func ids(srv *wsgate.Server) []string {
	var out []string
	for _, n := range srv.Nodes() {
		out = append(out, n.ID)
	}
	return out
}

// waitNodes polls until every server lists exactly want.
func waitNodes(t *testing.T, what string, want []string, srvs ...*wsgate.Server) {
	t.Helper()
	deadline := time.Now().Add(hang)
	for {
		ok := true
		for _, s := range srvs {
			if !slices.Equal(ids(s), want) {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var got [][]string
			for _, s := range srvs {
				got = append(got, ids(s))
			}
			t.Fatalf("%s: nodes listed %v, want %v on each", what, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNodesListedAcrossNATS: three nodes on one NATS each list all three
// (/edge/nodes); one that shuts down leaves the others' lists at once, and
// one whose NATS connection dies without a word leaves them when its
// heartbeats expire.
func TestNodesListedAcrossNATS(t *testing.T) {
	t.Parallel()
	ns := startNATS(t, t.TempDir(), -1)
	var srvs []*wsgate.Server
	var brokers []*Broker
	for _, id := range []string{"n0", "n1", "n2"} {
		b, err := New(Options{URL: ns.ClientURL()})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := wsgate.New(wsgate.Config{Broker: b, Logger: quiet, NodeID: id})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			srv.Close()
			b.Close()
		})
		srvs, brokers = append(srvs, srv), append(brokers, b)
	}
	waitNodes(t, "three nodes", []string{"n0", "n1", "n2"}, srvs...)

	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	if err := srvs[1].Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	waitNodes(t, "after n1 shut down", []string{"n0", "n2"}, srvs[0], srvs[2])

	brokers[2].Close() // n2 falls silent: no leaving heartbeat
	waitNodes(t, "after n2's heartbeats expired", []string{"n0"}, srvs[0])
}
