package natsbroker

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wsgate/wsgate"
)

// TestHistoryReadsCoalesced: while one read of a channel's history runs,
// any number of History calls for it wait for one next read, which
// serves them all; none is served by the read that began before it.
func TestHistoryReadsCoalesced(t *testing.T) {
	t.Parallel()
	ns := startNATS(t, t.TempDir(), -1)
	b, err := New(Options{URL: ns.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var reads atomic.Int32
	began := make(chan struct{}, 2)
	release := make(chan struct{})
	b.reads.readFn = func(ctx context.Context, k readKey) ([]stored, error) {
		n := reads.Add(1)
		began <- struct{}{}
		<-release
		return []stored{{streamSeq: 9, seq: uint64(n), epoch: "e", data: json.RawMessage(`1`)}}, nil
	}
	since := &wsgate.Position{Seq: 1, Epoch: "e"}
	firstDone := make(chan wsgate.History, 1)
	go func() {
		h, _ := b.History(context.Background(), "ch", since)
		firstDone <- h
	}()
	<-began
	const waiters = 50
	var wg sync.WaitGroup
	results := make([]wsgate.History, waiters)
	for i := range waiters {
		wg.Go(func() {
			h, err := b.History(context.Background(), "ch", since)
			if err != nil {
				t.Error(err)
			}
			results[i] = h
		})
	}
	waitFor(t, "the waiters to queue", func() bool { return b.Stats().Coalesced == waiters-1 })
	close(release)
	if h := <-firstDone; h.Position.Seq != 1 {
		t.Errorf("first caller got read %d", h.Position.Seq)
	}
	wg.Wait()
	if n := reads.Load(); n != 2 {
		t.Errorf("%d reads for %d calls, want 2", n, waiters+1)
	}
	for i, h := range results {
		if h.Position.Seq != 2 || !h.Recovered || len(h.Missed) != 1 {
			t.Fatalf("waiter %d got %+v, want the second read", i, h)
		}
	}
}

func TestHistoryOf(t *testing.T) {
	t.Parallel()
	ps := func(epoch string, seqs ...uint64) []stored {
		var out []stored
		for _, s := range seqs {
			out = append(out, stored{streamSeq: s + 100, seq: s, epoch: epoch, data: json.RawMessage("0")})
		}
		return out
	}
	tests := []struct {
		name      string
		kept      []stored
		since     *wsgate.Position
		pos       wsgate.Position
		missed    []uint64
		recovered bool
	}{
		{"empty, no since", nil, nil, wsgate.Position{}, nil, false},
		{"empty, since nothing", nil, &wsgate.Position{}, wsgate.Position{}, nil, false},
		{"position only", ps("e", 3, 4, 5), nil, wsgate.Position{Seq: 5, Epoch: "e"}, nil, false},
		{"up to date", ps("e", 3, 4, 5), &wsgate.Position{Seq: 5, Epoch: "e"}, wsgate.Position{Seq: 5, Epoch: "e"}, nil, true},
		{"missed two", ps("e", 3, 4, 5), &wsgate.Position{Seq: 3, Epoch: "e"}, wsgate.Position{Seq: 5, Epoch: "e"}, []uint64{4, 5}, true},
		{"just kept", ps("e", 3, 4, 5), &wsgate.Position{Seq: 2, Epoch: "e"}, wsgate.Position{Seq: 5, Epoch: "e"}, []uint64{3, 4, 5}, true},
		{"past what is kept", ps("e", 3, 4, 5), &wsgate.Position{Seq: 1, Epoch: "e"}, wsgate.Position{Seq: 5, Epoch: "e"}, []uint64{3, 4, 5}, false},
		{"other epoch", ps("e", 3, 4, 5), &wsgate.Position{Seq: 4, Epoch: "old"}, wsgate.Position{Seq: 5, Epoch: "e"}, []uint64{3, 4, 5}, false},
		{"ahead of the channel", ps("e", 3, 4, 5), &wsgate.Position{Seq: 9, Epoch: "e"}, wsgate.Position{Seq: 5, Epoch: "e"}, []uint64{3, 4, 5}, false},
		{"two epochs kept", append(ps("old", 7, 8), ps("new", 1, 2)...), &wsgate.Position{Seq: 7, Epoch: "old"}, wsgate.Position{Seq: 2, Epoch: "new"}, []uint64{1, 2}, false},
	}
	for _, tt := range tests {
		h := historyOf("ch", tt.kept, tt.since)
		var missed []uint64
		for _, p := range h.Missed {
			missed = append(missed, p.Seq)
		}
		if h.Position != tt.pos || h.Recovered != tt.recovered || len(missed) != len(tt.missed) {
			t.Errorf("%s: got %+v missed %v, want %+v missed %v recovered %v", tt.name, h.Position, missed, tt.pos, tt.missed, tt.recovered)
			continue
		}
		for i := range missed {
			if missed[i] != tt.missed[i] {
				t.Errorf("%s: missed %v, want %v", tt.name, missed, tt.missed)
			}
		}
	}
}
