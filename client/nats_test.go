package client_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/wsgate/wsgate/internal/measuretest"
	"github.com/wsgate/wsgate/natsbroker"
)

// startNATS runs an embedded NATS server with JetStream on loopback until
// the test ends.
func startNATS(t *testing.T) string {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, JetStream: true, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(hangGuard) {
		t.Fatal("NATS server not ready")
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns.ClientURL()
}

// natsNode starts a node on a Broker of its own connected to natsURL,
// behind a proxy adding delay each way.
func natsNode(t *testing.T, natsURL string, delay time.Duration) *node {
	t.Helper()
	b, err := natsbroker.New(natsbroker.Options{URL: natsURL, HistorySize: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() }) // after the node's own cleanup, registered below
	return startNode(t, b, delay)
}

// TestFailoverOnNATS: three nodes on one NATS, 0, 30 and 60 ms away each
// way. The clients pick the nearest; publications are made on the
// farthest and reach them through NATS; the nearest is killed under that
// load, and every client resumes on the next nearest having seen every
// publication once, in order.
func TestFailoverOnNATS(t *testing.T) {
	parallelIfSmall(t, measuretest.N(20))
	url := startNATS(t)
	near, next, far := natsNode(t, url, 0), natsNode(t, url, 30*time.Millisecond), natsNode(t, url, 60*time.Millisecond)
	f := newFleetOn(t, measuretest.N(20), near, next, far)
	f.run(t, "node killed, cluster on NATS", f.near.kill)
}

// TestDrainOnNATS: as TestFailoverOnNATS, the nearest node draining.
func TestDrainOnNATS(t *testing.T) {
	parallelIfSmall(t, measuretest.N(20))
	url := startNATS(t)
	near, next, far := natsNode(t, url, 0), natsNode(t, url, 30*time.Millisecond), natsNode(t, url, 60*time.Millisecond)
	f := newFleetOn(t, measuretest.N(20), near, next, far)
	f.run(t, "node drained, cluster on NATS", func() { go f.near.srv.Drain(ctxGuard(t)) })
}
