package memtrim

import (
	"context"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

func TestWorth(t *testing.T) {
	const mb = 1 << 20
	t0 := time.Unix(1000, 0)
	t1 := t0.Add(time.Second)
	for _, tt := range []struct {
		name      string
		prev, now sample
		want      bool
	}{
		{"quiet after a storm", sample{at: t0, cycles: 7, allocs: 50 * mb}, sample{at: t1, cycles: 7, allocs: 50 * mb, live: 6 * mb, held: 20 * mb}, true},
		{"a trickle is quiet", sample{at: t0, cycles: 7, allocs: 50 * mb}, sample{at: t1, cycles: 7, allocs: 50*mb + 200<<10, live: 6 * mb, held: 20 * mb}, true},
		{"allocating", sample{at: t0, cycles: 7, allocs: 50 * mb}, sample{at: t1, cycles: 7, allocs: 53 * mb, live: 6 * mb, held: 20 * mb}, false},
		{"still collecting", sample{at: t0, cycles: 7}, sample{at: t1, cycles: 8, live: 6 * mb, held: 20 * mb}, false},
		{"little waste", sample{at: t0, cycles: 7}, sample{at: t1, cycles: 7, live: 6 * mb, held: 7 * mb}, false},
		{"under a megabyte", sample{at: t0, cycles: 7}, sample{at: t1, cycles: 7, live: 1 * mb, held: 1*mb + 900<<10}, false},
		{"waste small beside a big heap", sample{at: t0, cycles: 7}, sample{at: t1, cycles: 7, live: 400 * mb, held: 450 * mb}, false},
		{"big heap, much waste", sample{at: t0, cycles: 7}, sample{at: t1, cycles: 7, live: 400 * mb, held: 520 * mb}, true},
		{"nothing held", sample{at: t0}, sample{at: t1}, false},
	} {
		if got := worth(tt.prev, tt.now); got != tt.want {
			t.Errorf("%s: worth = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestRunTrimsAfterGarbage leaves garbage behind that no collection has
// seen, goes quiet, and checks that Run trims it once, leaving the heap
// holding little beyond what is live, and stops with its context.
func TestRunTrimsAfterGarbage(t *testing.T) {
	var keep [][]byte
	for range 32 { // 32 MiB live
		b := make([]byte, 1<<20)
		b[0] = 1
		keep = append(keep, b)
	}
	runtime.GC()   // the heap goal is now about 64 MiB
	for range 20 { // 20 MiB of garbage, under the goal: no collection
		b := make([]byte, 1<<20)
		b[0] = 1
		_ = b
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	trims := Run(ctx, 200*time.Millisecond)
	if trims != 1 {
		t.Errorf("%d trims, want 1 (then nothing left worth it)", trims)
	}
	buf := make([]metrics.Sample, len(names))
	for i, n := range names {
		buf[i].Name = n
	}
	if s := read(buf); s.held-s.live >= MinWaste {
		t.Errorf("after Run the heap holds %d bytes beyond %d live, want under %d", s.held-s.live, s.live, MinWaste)
	}
	runtime.KeepAlive(keep)
}
