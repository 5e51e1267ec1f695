package demo

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
)

func TestWalk(t *testing.T) {
	t.Parallel()
	w := newWalk(1)
	now := time.UnixMilli(1_700_000_000_123)
	for step := range 2000 {
		for i, s := range w.syms {
			b := w.tick(nil, i, now)
			var tk struct {
				Symbol string
				Price  float64
				TS     int64
			}
			if err := json.Unmarshal(b, &tk); err != nil {
				t.Fatalf("tick %s is not JSON: %v", b, err)
			}
			if tk.Symbol != s.name || tk.TS != now.UnixMilli() {
				t.Fatalf("tick %s: want symbol %s, ts %d", b, s.name, now.UnixMilli())
			}
			if tk.Price < s.price/2 || tk.Price > s.price*2 {
				t.Fatalf("step %d: %s wandered to %v from %v", step, s.name, tk.Price, s.price)
			}
		}
	}
}

func newServer(t *testing.T) *wsgate.Server {
	t.Helper()
	s, err := wsgate.New(wsgate.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRunTicksStops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		stop func(cancel context.CancelFunc, s *wsgate.Server)
	}{
		{"context cancelled", func(cancel context.CancelFunc, _ *wsgate.Server) { cancel() }},
		{"server closed", func(_ context.CancelFunc, s *wsgate.Server) { s.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- RunTicks(ctx, s, time.Millisecond) }()
			time.Sleep(20 * time.Millisecond)
			tt.stop(cancel, s)
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("RunTicks = %v, want nil", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("RunTicks did not return")
			}
		})
	}
}

// TestOneNodePublishesTicks: two nodes that see each other, each with a
// broker of its own, both run RunTicks; only the smaller id publishes,
// and when it leaves the other takes over.
func TestOneNodePublishesTicks(t *testing.T) {
	t.Parallel()
	bus := &testBus{watchers: map[int]func([]byte){}}
	start := func(id string) (*wsgate.Server, *wsgate.MemoryBroker) {
		b := wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{})
		s, err := wsgate.New(wsgate.Config{NodeID: id, Broker: busBroker{b, bus}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, b
	}
	a, ab := start("node-a")
	b, bb := start("node-b")
	waitFor(t, "both nodes to see each other", func() bool { return len(a.Nodes()) == 2 && len(b.Nodes()) == 2 })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, s := range []*wsgate.Server{a, b} {
		go RunTicks(ctx, s, 5*time.Millisecond)
	}
	last := func(b *wsgate.MemoryBroker) uint64 {
		h, err := b.History(context.Background(), TicksChannel, nil)
		if err != nil {
			t.Fatal(err)
		}
		return h.Position.Seq
	}
	waitFor(t, "node-a to publish ticks", func() bool { return last(ab) >= 20 })
	if n := last(bb); n != 0 {
		t.Fatalf("node-b published %d ticks while node-a, the smaller id, was live", n)
	}
	a.Close()
	waitFor(t, "node-b to take over", func() bool { return last(bb) >= 20 })
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// testBus carries node heartbeats between the Servers of one test.
type testBus struct {
	mu       sync.Mutex
	next     int
	watchers map[int]func([]byte)
}

// busBroker is a MemoryBroker that is also a NodeBus on a testBus.
type busBroker struct {
	*wsgate.MemoryBroker
	bus *testBus
}

func (b busBroker) AnnounceNode(data []byte) error {
	b.bus.mu.Lock()
	defer b.bus.mu.Unlock()
	for _, deliver := range b.bus.watchers {
		deliver(data)
	}
	return nil
}

func (b busBroker) WatchNodes(deliver func([]byte)) (func(), error) {
	b.bus.mu.Lock()
	defer b.bus.mu.Unlock()
	id := b.bus.next
	b.bus.next++
	b.bus.watchers[id] = deliver
	return func() {
		b.bus.mu.Lock()
		defer b.bus.mu.Unlock()
		delete(b.bus.watchers, id)
	}, nil
}
