package wsgate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/wsgate/wsgate"
)

func TestMemoryBrokerHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{HistorySize: 3})
	defer b.Close()
	var last wsgate.Publication
	for i := 1; i <= 5; i++ {
		p, err := b.Publish(ctx, "c", json.RawMessage(fmt.Sprint(i)))
		if err != nil || p.Seq != uint64(i) {
			t.Fatalf("publish %d: %+v %v", i, p, err)
		}
		last = p
	}
	seqs := func(ps []wsgate.Publication) (out []uint64) {
		for _, p := range ps {
			out = append(out, p.Seq)
		}
		return out
	}
	tests := []struct {
		name      string
		since     *wsgate.Position
		missed    []uint64
		recovered bool
	}{
		{"position only", nil, nil, false},
		{"up to date", &wsgate.Position{Seq: 5, Epoch: last.Epoch}, nil, true},
		{"two behind", &wsgate.Position{Seq: 3, Epoch: last.Epoch}, []uint64{4, 5}, true},
		{"oldest retained", &wsgate.Position{Seq: 2, Epoch: last.Epoch}, []uint64{3, 4, 5}, true},
		{"too far behind", &wsgate.Position{Seq: 1, Epoch: last.Epoch}, []uint64{3, 4, 5}, false},
		{"another epoch", &wsgate.Position{Seq: 4, Epoch: "other"}, []uint64{3, 4, 5}, false},
		{"from the future", &wsgate.Position{Seq: 9, Epoch: last.Epoch}, []uint64{3, 4, 5}, false},
	}
	for _, tt := range tests {
		h, err := b.History(ctx, "c", tt.since)
		if err != nil {
			t.Fatal(err)
		}
		if h.Position.Seq != 5 || h.Position.Epoch != last.Epoch {
			t.Errorf("%s: position %+v", tt.name, h.Position)
		}
		if fmt.Sprint(seqs(h.Missed)) != fmt.Sprint(tt.missed) || h.Recovered != tt.recovered {
			t.Errorf("%s: missed %v recovered %v, want %v %v", tt.name, seqs(h.Missed), h.Recovered, tt.missed, tt.recovered)
		}
	}
}

// TestMemoryBrokerDropsIdleChannels publishes on many channel names: the
// broker keeps a bounded number, never drops a channel with subscribers,
// and a dropped channel that comes back has a new epoch.
func TestMemoryBrokerDropsIdleChannels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{MaxIdleChannels: 10})
	defer b.Close()
	var got []uint64
	var mu sync.Mutex
	cancel, err := b.Subscribe("kept", func(p wsgate.Publication) {
		mu.Lock()
		got = append(got, p.Seq)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	first, _ := b.Publish(ctx, "kept", json.RawMessage(`1`))
	old, _ := b.Publish(ctx, "idle", json.RawMessage(`1`))
	for i := range 100 {
		b.Publish(ctx, fmt.Sprintf("spam.%d", i), json.RawMessage(`0`))
	}
	again, _ := b.Publish(ctx, "kept", json.RawMessage(`2`))
	if again.Seq != 2 || again.Epoch != first.Epoch {
		t.Errorf("subscribed channel lost its state: %+v after %+v", again, first)
	}
	mu.Lock()
	if fmt.Sprint(got) != "[1 2]" {
		t.Errorf("subscriber got %v, want [1 2]", got)
	}
	mu.Unlock()
	h, err := b.History(ctx, "idle", &wsgate.Position{Seq: old.Seq, Epoch: old.Epoch})
	if err != nil {
		t.Fatal(err)
	}
	if h.Recovered || h.Position.Epoch == old.Epoch {
		t.Errorf("dropped channel came back as %+v: want a new epoch and recovered=false", h)
	}
}

func TestMemoryBrokerConcurrentChurn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{MaxIdleChannels: 4})
	defer b.Close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				name := fmt.Sprintf("ch.%d", (g*7+i)%16)
				var seen []uint64
				cancel, err := b.Subscribe(name, func(p wsgate.Publication) { seen = append(seen, p.Seq) })
				if err != nil {
					t.Error(err)
					return
				}
				p, err := b.Publish(ctx, name, json.RawMessage(`1`))
				if err != nil {
					t.Error(err)
				}
				cancel()
				if len(seen) == 0 || seen[len(seen)-1] < p.Seq {
					t.Errorf("%s: subscriber missed its own publication %d (saw %v)", name, p.Seq, seen)
				}
				b.History(ctx, name, &wsgate.Position{Seq: 1, Epoch: p.Epoch})
			}
		}()
	}
	wg.Wait()
}

// TestMemoryBrokerDropsLongestIdle: past MaxIdleChannels the channel idle
// the longest goes, and any use (a history read, a publication) makes a
// channel idle anew.
func TestMemoryBrokerDropsLongestIdle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{MaxIdleChannels: 3})
	defer b.Close()
	epochs := map[string]string{}
	for _, ch := range []string{"a", "b", "c"} {
		p, _ := b.Publish(ctx, ch, json.RawMessage(`1`))
		epochs[ch] = p.Epoch
	}
	b.History(ctx, "a", nil) // a is now the most recently idle
	b.Publish(ctx, "d", json.RawMessage(`1`))
	// In this order a look does not drop what is looked at next: reading
	// b creates it again, which drops d.
	for _, tt := range []struct {
		ch   string
		kept bool
	}{{"a", true}, {"c", true}, {"b", false}} {
		ch, kept := tt.ch, tt.kept
		h, err := b.History(ctx, ch, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := h.Position.Epoch == epochs[ch]; got != kept {
			t.Errorf("channel %s kept = %v, want %v", ch, got, kept)
		}
	}
}

// BenchmarkMemoryBrokerNewChannels subscribes to ever new channel names
// and keeps every subscription, past the idle bound: the cost of one
// subscription must not grow with the number of channels (it did: each
// new channel past 10,000 scanned them all, 8.7 s for 30,000).
func BenchmarkMemoryBrokerNewChannels(b *testing.B) {
	br := wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{})
	defer br.Close()
	deliver := func(wsgate.Publication) {}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := br.Subscribe(fmt.Sprint("ch.", i), deliver); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
