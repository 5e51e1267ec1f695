package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsgate/wsgate/client"
	"github.com/wsgate/wsgate/internal/delayproxy"
	"github.com/wsgate/wsgate/ws"
)

// failoverClients is how many Go clients TestFailoverProcesses moves.
const failoverClients = 50

// failoverKey is the nodes' --api-key, for POST /api/publish.
const failoverKey = "e2e-failover"

// clusterNode is a wsgate process behind a delay proxy; url, the proxy's,
// is the node's --public-url.
type clusterNode struct {
	p    *process
	addr string // the process's own address
	url  string // http://proxy
}

// subscriber is one Go client of TestFailoverProcesses and what its
// handler and OnState saw (both run on its dispatcher, in order).
type subscriber struct {
	c *client.Client

	mu     sync.Mutex
	node   string   // the node in use; "" while none
	ns     []int    // the n of every publication, in order of delivery
	seqs   []uint64 // their seq
	other  []string // messages other than publications
	losses []error  // why each connection ended
	// since[node] is the index in ns of the first publication after the
	// client connected to node.
	since map[string]int
}

func (s *subscriber) onState(e client.StateEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e.State {
	case client.StateConnected:
		s.node = e.Node
		if _, ok := s.since[e.Node]; !ok {
			s.since[e.Node] = len(s.ns)
		}
	case client.StateDisconnected:
		s.node = ""
		s.losses = append(s.losses, e.Err)
	}
}

func (s *subscriber) onMessage(m client.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d struct{ N int }
	if m.Kind != client.KindPublication || json.Unmarshal(m.Data, &d) != nil {
		s.other = append(s.other, fmt.Sprintf("%v %s", m.Kind, m.Data))
		return
	}
	s.ns = append(s.ns, d.N)
	s.seqs = append(s.seqs, m.Pos.Seq)
}

// resumedOn reports whether s is connected to node and was given a
// publication there.
func (s *subscriber) resumedOn(node string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.since[node]
	return ok && s.node == node && len(s.ns) > i
}

// TestFailoverProcesses runs a nats-server and three wsgate processes,
// each behind a proxy adding 0, 100 and 300 ms each way, and 50 Go clients
// (default options) subscribed to one channel while publications go
// through POST /api/publish on the farthest node. The clients choose the
// nearest node; it is killed with SIGKILL and they all resume on the
// next; that one is sent SIGTERM, and they all leave it on its Close
// with 1012 before it exits cleanly, and resume on the last. Every
// subscriber ends with every publication exactly once, in order.
func TestFailoverProcesses(t *testing.T) {
	t.Parallel()
	natsServer := needNATSServer(t)
	bin := buildWsgate(t)
	natsURL := startNATSServer(t, natsServer)

	var nodes []*clusterNode
	// Distances far apart, so that a busy machine does not blur their order.
	for i, delay := range []time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond} {
		port := freePort(t)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		proxy, err := delayproxy.New(addr, delay)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { proxy.Close() })
		n := &clusterNode{url: proxy.URL()}
		n.p, n.addr = startNode(t, bin, natsURL, "--listen", addr, "--node-id", fmt.Sprintf("n%d", i),
			"--public-url", n.url, "--api-key", failoverKey, "--history-size", "10000")
		nodes = append(nodes, n)
	}
	near, next, far := nodes[0], nodes[1], nodes[2]
	seeds := []string{far.url, next.url, near.url}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	subs := make([]*subscriber, failoverClients)
	var wg sync.WaitGroup
	errs := make(chan error, len(subs))
	sem := make(chan struct{}, 8) // a few dials at a time, so that load does not blur the nodes' distances
	for i := range subs {
		s := &subscriber{since: make(map[string]int)}
		subs[i] = s
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := client.Dial(ctx, seeds, client.Options{OnState: s.onState})
			if err != nil {
				errs <- err
				return
			}
			s.c = c
			if _, err := c.Subscribe(ctx, "e2e.failover", s.onMessage); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, s := range subs {
			if s.c != nil {
				s.c.Close()
			}
		}
	})
	close(errs)
	for err := range errs {
		t.Fatalf("client: %v", err)
	}
	for i, s := range subs {
		s.mu.Lock()
		node := s.node
		s.mu.Unlock()
		if node != near.url {
			t.Fatalf("client %d chose %s, want the nearest, %s", i, node, near.url)
		}
	}

	pub := newPublisher(far.addr)
	stop := make(chan struct{})
	var pubWG sync.WaitGroup
	pubWG.Go(func() { pub.run(t, stop) })
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		pubWG.Wait()
		pub.http.CloseIdleConnections()
	}()
	eventually(t, "every client receiving publications", func() bool {
		return every(subs, func(s *subscriber) bool { return len(s.ns) > 0 })
	})

	killed := time.Now()
	near.p.cmd.Process.Signal(syscall.SIGKILL)
	eventually(t, "every client resuming on the next nearest node", func() bool {
		return allResumed(subs, next.url)
	})
	t.Logf("kill -9: %d clients resumed on the next node within %v", len(subs), time.Since(killed).Round(time.Millisecond))

	drained := time.Now()
	next.p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-next.p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the draining node did not exit within 30s")
	}
	if !next.p.cmd.ProcessState.Success() {
		t.Errorf("the draining node exited with %v", next.p.cmd.ProcessState)
	}
	for i, s := range subs {
		s.mu.Lock()
		losses := slices.Clone(s.losses)
		s.mu.Unlock()
		var ce *ws.CloseError
		if len(losses) != 2 || !errors.As(losses[1], &ce) || ce.Code != ws.StatusServiceRestart {
			t.Errorf("client %d: connections ended with %v; want the drained node's 1012 last", i, losses)
		}
	}
	eventually(t, "every client resuming on the last node", func() bool { return allResumed(subs, far.url) })
	t.Logf("SIGTERM: the node exited %v after, and %d clients resumed on the last node within %v",
		next.p.exited.Sub(drained).Round(time.Millisecond), len(subs), time.Since(drained).Round(time.Millisecond))

	close(stop)
	pubWG.Wait()
	last := pub.last()
	eventually(t, fmt.Sprintf("every client receiving publication %d", last), func() bool {
		return every(subs, func(s *subscriber) bool { return len(s.ns) > 0 && s.ns[len(s.ns)-1] >= last })
	})
	for i, s := range subs {
		s.mu.Lock()
		if len(s.other) > 0 {
			t.Errorf("client %d: %v", i, s.other)
		}
		for j, n := range s.ns {
			if n != j || (j > 0 && s.seqs[j] != s.seqs[j-1]+1) {
				t.Errorf("client %d: publication %d is n=%d seq %d after seq %d; want every publication once, in order", i, j, n, s.seqs[j], s.seqs[max(j-1, 0)])
				break
			}
		}
		if len(s.ns) != last+1 {
			t.Errorf("client %d: %d publications, want %d", i, len(s.ns), last+1)
		}
		s.mu.Unlock()
	}
}

// every reports whether ok holds for every subscriber (under its lock).
func every(subs []*subscriber, ok func(*subscriber) bool) bool {
	for _, s := range subs {
		s.mu.Lock()
		y := ok(s)
		s.mu.Unlock()
		if !y {
			return false
		}
	}
	return true
}

func allResumed(subs []*subscriber, node string) bool {
	for _, s := range subs {
		if !s.resumedOn(node) {
			return false
		}
	}
	return true
}

// publisher publishes {"n":0}, {"n":1}, … on e2e.failover through POST
// /api/publish on one node, one every 10 ms.
type publisher struct {
	url  string
	http *http.Client

	mu sync.Mutex
	n  int // publications acknowledged
}

func newPublisher(addr string) *publisher {
	return &publisher{url: "http://" + addr + "/api/publish", http: &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}}
}

func (p *publisher) run(t *testing.T, stop <-chan struct{}) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		p.mu.Lock()
		n := p.n
		p.mu.Unlock()
		body := fmt.Sprintf(`{"channel":"e2e.failover","data":{"n":%d}}`, n)
		req, err := http.NewRequest(http.MethodPost, p.url, bytes.NewReader([]byte(body)))
		if err != nil {
			t.Error(err)
			return
		}
		req.Header.Set("Authorization", "Bearer "+failoverKey)
		resp, err := p.http.Do(req)
		if err != nil {
			t.Errorf("publish %d: %v", n, err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("publish %d: %s", n, resp.Status)
			return
		}
		p.mu.Lock()
		p.n++
		p.mu.Unlock()
	}
}

// last is the n of the last publication acknowledged.
func (p *publisher) last() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n - 1
}

// eventually waits up to 30 s for cond, checking every 20 ms.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
