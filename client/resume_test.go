package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/client"
	"github.com/wsgate/wsgate/ws"
)

// TestResumeExactlyOnce cuts the connection in the middle of a stream;
// publications made while the client is away are replayed on the new
// connection, and the handler sees every one once, in order.
func TestResumeExactlyOnce(t *testing.T) {
	t.Parallel()
	n := startNode(t, nil, 0)
	r := newRecorder()
	c := dial(t, []string{n.url}, fast(r))
	subscribe(t, c, "ticks", r)

	n.publish(t, "ticks", 1, 20)
	r.waitPublications(t, 10)
	n.refuse.Store(true) // hold the client off until the test says
	n.proxy.Cut()
	r.wait(t, "the disconnection", r.disconnected)
	n.publish(t, "ticks", 21, 60) // missed: to be replayed
	n.refuse.Store(false)
	r.wait(t, "the reconnection", func() bool { return len(r.connectedTo()) == 2 })
	n.publish(t, "ticks", 61, 80)
	r.waitPublications(t, 80)
	r.checkExactlyOnce(t, 80)
}

// TestResumeGap: when the server no longer holds what was missed, the
// handler gets a KindGap, then what the server still had, then live
// publications.
func TestResumeGap(t *testing.T) {
	t.Parallel()
	broker := wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{HistorySize: 4})
	n := startNode(t, broker, 0)
	r := newRecorder()
	c := dial(t, []string{n.url}, fast(r))
	subscribe(t, c, "ticks", r)
	n.publish(t, "ticks", 1, 3)
	r.waitPublications(t, 3)

	n.refuse.Store(true)
	n.proxy.Cut()
	r.wait(t, "the disconnection", r.disconnected)
	n.publish(t, "ticks", 4, 13) // the broker keeps 10 to 13
	n.refuse.Store(false)
	r.waitPublications(t, 13) // replayed after the gap
	n.publish(t, "ticks", 14, 14)
	r.waitPublications(t, 14)

	r.mu.Lock()
	defer r.mu.Unlock()
	var kinds []client.Kind
	var seqs []uint64
	for _, m := range r.msgs {
		kinds = append(kinds, m.Kind)
		seqs = append(seqs, m.Pos.Seq)
	}
	gap := r.msgs[3]
	if gap.Kind != client.KindGap || gap.Last.Seq != 3 || gap.Pos.Seq != 13 || gap.Last.Epoch != gap.Pos.Epoch {
		t.Fatalf("message 4 = %+v; want a gap after 3 to 13 in one epoch", gap)
	}
	want := []uint64{1, 2, 3, 13, 10, 11, 12, 13, 14}
	if len(seqs) != len(want) {
		t.Fatalf("got kinds %v seqs %v, want seqs %v", kinds, seqs, want)
	}
	for i := range want {
		if seqs[i] != want[i] || (i != 3 && kinds[i] != client.KindPublication) {
			t.Fatalf("got kinds %v seqs %v, want seqs %v", kinds, seqs, want)
		}
	}
}

// TestFailover: two nodes share a broker; the client is on the nearer,
// which goes away (shut down with 1001, killed without a Close, or cut
// off by the network). The client moves to the other and its
// subscription continues without a loss or a duplicate.
func TestFailover(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		stop func(n *node)
	}{
		{"shut down", func(n *node) {
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			n.srv.Shutdown(ctx)
		}},
		{"killed", (*node).kill},
		{"unreachable", func(n *node) { n.proxy.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			broker := wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{})
			t.Cleanup(func() { broker.Close() })
			near := startNode(t, broker, 0)
			far := startNode(t, broker, 60*time.Millisecond)
			r := newRecorder()
			c := dial(t, []string{far.url, near.url}, fast(r))
			subscribe(t, c, "ticks", r)
			if got := r.firstNode(t); got != near.url {
				t.Fatalf("connected to %v, want the near node %s", got, near.url)
			}
			far.publish(t, "ticks", 1, 20)
			r.waitPublications(t, 20)
			tt.stop(near)
			far.publish(t, "ticks", 21, 40)
			r.wait(t, "the move to the far node", func() bool { return len(r.connectedTo()) == 2 })
			if got := r.connectedTo(); got[1] != far.url {
				t.Fatalf("reconnected to %s, want %s", got[1], far.url)
			}
			far.publish(t, "ticks", 41, 50)
			r.waitPublications(t, 50)
			r.checkExactlyOnce(t, 50)

			// Requests go to the new node.
			if _, err := c.Publish(ctxGuard(t), "ticks", map[string]int{"n": 51}); err != nil {
				t.Fatal(err)
			}
			r.waitPublications(t, 51)
		})
	}
}

// TestServiceRestartMovesAtOnce: a node that drains (Server.Drain)
// closes its clients with 1012 (service restart), and the client leaves
// it for the next node without a backoff (here an hour: waiting it would
// hang the test).
func TestServiceRestartMovesAtOnce(t *testing.T) {
	t.Parallel()
	draining := startNode(t, nil, 0)
	other := startNode(t, nil, 60*time.Millisecond)
	r := newRecorder()
	opts := fast(r)
	opts.BackoffMin, opts.BackoffMax = time.Hour, time.Hour
	dial(t, []string{other.url, draining.url}, opts)
	r.wait(t, "a connection to the nearer node", func() bool { return len(r.connectedTo()) > 0 })
	if got := r.connectedTo()[0]; got != draining.url {
		t.Fatalf("connected to %s first, want the nearer node %s", got, draining.url)
	}
	drained := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		defer cancel()
		drained <- draining.srv.Drain(ctx)
	}()
	r.wait(t, "a connection to the other node", func() bool {
		nodes := r.connectedTo()
		return len(nodes) > 0 && nodes[len(nodes)-1] == other.url
	})
	if err := <-drained; err != nil {
		t.Fatalf("Drain: %v", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var ce *ws.CloseError
	if d := r.states[1]; d.State != client.StateDisconnected || !errors.As(d.Err, &ce) || ce.Code != ws.StatusServiceRestart {
		t.Fatalf("second event %+v: want disconnected with 1012", d)
	}
	if re := r.states[2]; re.State != client.StateReconnecting || re.Delay != 0 || re.Node != other.url {
		t.Fatalf("third event %+v: want reconnecting to %s without delay", re, other.url)
	}
}

// TestReconnectBackoff: while the node refuses, the client retries with growing,
// jittered delays within the documented bounds, then reconnects.
func TestReconnectBackoff(t *testing.T) {
	t.Parallel()
	n := startNode(t, nil, 0)
	r := newRecorder()
	opts := fast(r)
	opts.BackoffMin, opts.BackoffMax = 4*time.Millisecond, 64*time.Millisecond
	dial(t, []string{n.url}, opts)
	n.refuse.Store(true)
	n.proxy.Cut()
	const attempts = 8
	r.wait(t, "retries", func() bool { return r.count(client.StateReconnecting) >= attempts })
	n.refuse.Store(false)
	r.wait(t, "the reconnection", func() bool { return len(r.connectedTo()) == 2 })

	r.mu.Lock()
	defer r.mu.Unlock()
	k := 0
	for _, e := range r.states {
		if e.State != client.StateReconnecting {
			continue
		}
		k++
		if e.Attempt != k {
			t.Errorf("attempt %d numbered %d", k, e.Attempt)
		}
		switch {
		case k == 1 && e.Err != nil:
			t.Errorf("attempt 1 carries %v, want no previous failure", e.Err)
		case k > 1 && (e.Err == nil || !strings.Contains(e.Err.Error(), "503")):
			t.Errorf("attempt %d carries %v, want the previous attempt's refusal (503)", k, e.Err)
		}
		ceil := min(opts.BackoffMin<<(k-1), opts.BackoffMax)
		if e.Delay < ceil/2 || e.Delay >= ceil {
			t.Errorf("attempt %d waited %v, want [%v, %v)", k, e.Delay, ceil/2, ceil)
		}
	}
}

// TestDialAllDown: Dial tries every seed and fails with ErrNoNode.
func TestDialAllDown(t *testing.T) {
	t.Parallel()
	var seeds []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, "http://"+ln.Addr().String())
		ln.Close() // nothing listens there now
	}
	_, err := client.Dial(ctxGuard(t), seeds, client.Options{})
	if !errors.Is(err, client.ErrNoNode) {
		t.Fatalf("Dial = %v, want ErrNoNode", err)
	}
	for _, s := range seeds {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name seed %s", err, s)
		}
	}
}

// TestDrainRefusalGoesAgain: a request that reaches a node after it
// began to drain, while a running call holds its connections open, is
// refused as not run (wsgate.DrainRefusal); the client sends it again on
// its next connection, and the caller sees only the answer.
func TestDrainRefusalGoesAgain(t *testing.T) {
	t.Parallel()
	draining := startNode(t, nil, 0)
	other := startNode(t, nil, 60*time.Millisecond)
	started, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(free) // before the nodes' cleanups, which wait for running calls
	draining.srv.Handle("slow", func(ctx context.Context, _ json.RawMessage) (any, error) {
		close(started)
		<-release
		return "slow done", nil
	})
	for name, n := range map[string]*node{"draining": draining, "other": other} {
		n.srv.Handle("where", func(context.Context, json.RawMessage) (any, error) { return name, nil })
	}
	r := newRecorder()
	c := dial(t, []string{other.url, draining.url}, fast(r))
	r.wait(t, "a connection to the nearer node", func() bool { return len(r.connectedTo()) > 0 })
	if got := r.connectedTo()[0]; got != draining.url {
		t.Fatalf("connected to %s first, want the nearer node %s", got, draining.url)
	}
	slow := make(chan error, 1)
	go func() {
		res, err := c.Call(context.Background(), "slow", nil)
		if err == nil && string(res) != `"slow done"` {
			err = fmt.Errorf("result %s", res)
		}
		slow <- err
	}()
	<-started
	drained := make(chan error, 1)
	go func() { drained <- draining.srv.Drain(ctxGuard(t)) }()
	eventually(t, "the node to drain", draining.srv.Draining)

	called := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		defer cancel()
		res, err := c.Call(ctx, "where", nil)
		if err == nil && string(res) != `"other"` {
			err = fmt.Errorf("answered by %s", res)
		}
		called <- err
	}()
	time.Sleep(50 * time.Millisecond) // the call reaches the draining node and is refused
	free()
	if err := <-slow; err != nil {
		t.Errorf("the call running when the drain began: %v", err)
	}
	if err := <-called; err != nil {
		t.Errorf("the call made while the node drained: %v", err)
	}
	if err := <-drained; err != nil {
		t.Errorf("Drain: %v", err)
	}
}

// TestBackoffPerRound: with two nodes refusing, the client waits a
// growing backoff before each round and tries the round's second node at
// once after the first failed, so a dead node in the plan costs no wait.
func TestBackoffPerRound(t *testing.T) {
	t.Parallel()
	a := startNode(t, nil, 0)
	b := startNode(t, nil, 60*time.Millisecond)
	r := newRecorder()
	opts := fast(r)
	opts.BackoffMin, opts.BackoffMax = 8*time.Millisecond, 64*time.Millisecond
	dial(t, []string{a.url, b.url}, opts)
	r.wait(t, "a connection to the nearer node", func() bool { return len(r.connectedTo()) > 0 })
	a.refuse.Store(true)
	b.refuse.Store(true)
	a.proxy.Cut()
	const attempts = 6
	r.wait(t, "retries", func() bool { return r.count(client.StateReconnecting) >= attempts })
	b.refuse.Store(false)
	r.wait(t, "the reconnection", func() bool { return len(r.connectedTo()) == 2 })

	r.mu.Lock()
	defer r.mu.Unlock()
	k := 0
	for _, e := range r.states {
		if e.State != client.StateReconnecting || k >= attempts {
			continue
		}
		k++
		round := (k + 1) / 2 // attempts 1 and 2 are round 1, 3 and 4 round 2…
		if k%2 == 0 {
			if e.Delay != 0 {
				t.Errorf("attempt %d, the second of round %d, waited %v, want none", k, round, e.Delay)
			}
			continue
		}
		ceil := min(opts.BackoffMin<<(round-1), opts.BackoffMax)
		if e.Delay < ceil/2 || e.Delay >= ceil {
			t.Errorf("attempt %d, the first of round %d, waited %v, want [%v, %v)", k, round, e.Delay, ceil/2, ceil)
		}
	}
}
