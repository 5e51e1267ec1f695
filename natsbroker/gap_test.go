package natsbroker

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wsgate/wsgate"
)

// liveCopy is the message the stream republishes for p.
func liveCopy(p stored) *nats.Msg {
	return &nats.Msg{Data: p.data, Header: nats.Header{
		hdrStreamSeq: []string{strconv.FormatUint(p.streamSeq, 10)},
		hdrSeq:       []string{strconv.FormatUint(p.seq, 10)},
		hdrEpoch:     []string{p.epoch},
	}}
}

// TestGapFilledFromStream: live copies of publications 3 and 4 never
// arrive; when 5 does, the subscription reads 3 and 4 from the stream
// and delivers 3, 4, 5 in order, once each, and a late duplicate is
// dropped.
func TestGapFilledFromStream(t *testing.T) {
	t.Parallel()
	ns := startNATS(t, t.TempDir(), -1)
	b, err := New(Options{URL: ns.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	const ch = "gappy"
	for range 2 {
		if _, err := b.Publish(ctx, ch, json.RawMessage(`0`)); err != nil {
			t.Fatal(err)
		}
	}
	got := make(chan wsgate.Publication, 16)
	cancel, err := b.Subscribe(ch, func(p wsgate.Publication) { got <- p })
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	subs := b.subs.all()
	if len(subs) != 1 {
		t.Fatalf("%d subscriptions", len(subs))
	}
	s := subs[0]
	// Take the subscription off NATS: from now on only what this test
	// hands it arrives live.
	if err := s.ns.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	b.nc.Flush()
	for range 3 {
		if _, err := b.Publish(ctx, ch, json.RawMessage(`0`)); err != nil {
			t.Fatal(err)
		}
	}
	last, found, err := b.readLast(ctx, s.subj)
	if err != nil || !found || last.seq != 5 {
		t.Fatalf("last publication %+v %v %v", last, found, err)
	}
	s.onLive(liveCopy(last))
	for want := uint64(3); want <= 5; want++ {
		p := <-got
		if p.Seq != want || p.Epoch != last.epoch || p.Channel != ch {
			t.Fatalf("delivered %+v, want seq %d", p, want)
		}
	}
	s.onLive(liveCopy(last)) // a duplicate
	waitFor(t, "the gap fill to end", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return !s.filling
	})
	s.onLive(liveCopy(last))
	select {
	case p := <-got:
		t.Fatalf("a duplicate was delivered: %+v", p)
	default:
	}
	if st := b.Stats(); st.Gaps != 1 {
		t.Errorf("%d gaps counted, want 1", st.Gaps)
	}
}

// TestLiveOrder: what a subscription does with each live message, from
// a known position, when nothing needs the stream.
func TestLiveOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		epoch   string
		seq     uint64
		deliver bool
		fill    bool
	}{
		{"next", "e", 5, true, false},
		{"duplicate", "e", 4, false, false},
		{"older", "e", 1, false, false},
		{"gap", "e", 7, false, true},
		{"new epoch from 1", "f", 1, true, false},
		{"new epoch past 1", "f", 3, false, true},
	}
	for _, tt := range tests {
		var delivered []wsgate.Publication
		s := &subscription{b: &Broker{}, channel: "c", epoch: "e", next: 5, streamSeq: 40,
			deliver: func(p wsgate.Publication) { delivered = append(delivered, p) }}
		s.ctx, s.stop = context.WithCancel(context.Background())
		s.stop() // a fill would end at once
		s.b.fetchSlot = make(chan struct{})
		m := liveCopy(stored{streamSeq: 50, seq: tt.seq, epoch: tt.epoch, data: json.RawMessage(`1`)})
		s.onLive(m)
		s.b.wg.Wait()
		if (len(delivered) == 1) != tt.deliver || s.filling != tt.fill {
			t.Errorf("%s: delivered %v, filling %v; want %v, %v", tt.name, delivered, s.filling, tt.deliver, tt.fill)
		}
	}
}

// TestSlowNodeCatchesUp: a node whose deliveries stall while thousands
// of publications arrive overflows its queue, so NATS drops live
// messages, the last ones included; once it moves again it reads what it
// lost from the stream and delivers every publication once, in order,
// though nothing came after the drops to show the gap.
func TestSlowNodeCatchesUp(t *testing.T) {
	t.Parallel()
	const ch, n = "flood", shardQueue + 2000
	ns := startNATS(t, t.TempDir(), -1)
	opts := Options{URL: ns.ClientURL(), HistorySize: n} // the stream keeps what the node loses
	pubNode, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer pubNode.Close()
	slow, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()

	stall := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(stall) }) }
	defer release() // before the Brokers close, should the test fail
	got := make(chan uint64, n)
	cancel, err := slow.Subscribe(ch, func(p wsgate.Publication) {
		<-stall // the first delivery waits until every publication is made
		got <- p.Seq
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	names := make([]string, n)
	for i := range names {
		names[i] = ch
	}
	publishAllOn(t, pubNode, names)
	s := slow.subs.all()[0]
	// Wait until every message past the queue's room was dropped: none
	// arrives after the stall to show the gap, so only the drop count
	// can tell.
	waitFor(t, "NATS to drop live messages", func() bool { d, _ := s.ns.Dropped(); return d == n-shardQueue-1 })
	release()
	for want := uint64(1); want <= n; want++ {
		select {
		case seq := <-got:
			if seq != want {
				t.Fatalf("delivered seq %d, want %d; %+v", seq, want, slow.Stats())
			}
		case <-time.After(hang):
			t.Fatalf("stuck after %d of %d", want-1, n)
		}
	}
	if st := slow.Stats(); st.Gaps == 0 || st.Dropped == 0 {
		t.Errorf("no gap filled, or no drop counted: %+v", st)
	}
}

// publishAllOn publishes once per name, from a few goroutines.
func publishAllOn(t testing.TB, br *Broker, names []string) {
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 16 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(names); i = int(next.Add(1)) - 1 {
				if _, err := br.Publish(context.Background(), names[i], json.RawMessage(`0`)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
