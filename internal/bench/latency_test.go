package bench

import (
	"sync"
	"testing"
	"time"
)

// within reports whether got is within 0.1 % (3 significant digits) of want.
func within(got, want time.Duration) bool {
	diff := got - want
	if diff < 0 {
		diff = -diff
	}
	return diff <= want/1000+time.Microsecond
}

func TestSummaryPercentiles(t *testing.T) {
	t.Parallel()
	l := newLatency()
	l.SetMeasuring(true)
	// 1..1000 ms, one each: p50 = 500 ms, p99 = 990 ms, p99.9 = 999 ms.
	for i := 1; i <= 1000; i++ {
		l.Record(i, time.Duration(i)*time.Millisecond)
	}
	s := l.Window()
	tests := []struct {
		name      string
		got, want time.Duration
	}{
		{"p50", s.P50, 500 * time.Millisecond},
		{"p90", s.P90, 900 * time.Millisecond},
		{"p99", s.P99, 990 * time.Millisecond},
		{"p99.9", s.P999, 999 * time.Millisecond},
		{"max", s.Max, 1000 * time.Millisecond},
		{"mean", s.Mean, 500500 * time.Microsecond},
	}
	for _, tt := range tests {
		if !within(tt.got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if s.Count != 1000 {
		t.Errorf("count = %d", s.Count)
	}
}

func TestLatencyWindowAndInterval(t *testing.T) {
	t.Parallel()
	l := newLatency()
	l.Record(0, time.Millisecond) // warmup: interval only
	if s := l.Window(); s.Count != 0 {
		t.Fatalf("warmup sample in the window: %+v", s)
	}
	if s := l.Interval(); s.Count != 1 {
		t.Fatalf("interval count = %d, want 1", s.Count)
	}
	if s := l.Interval(); s.Count != 0 {
		t.Fatalf("interval not reset: %d", s.Count)
	}
	l.SetMeasuring(true)
	l.RecordBatch(3, []time.Duration{time.Microsecond, 2 * time.Microsecond})
	l.Record(4, 0)            // clamped to 1 µs
	l.Record(5, 24*time.Hour) // clamped to the highest value
	l.SetMeasuring(false)
	l.Record(6, time.Second) // after the window
	s := l.Window()
	if s.Count != 4 {
		t.Fatalf("window count = %d, want 4", s.Count)
	}
	if s.Max < 9*time.Minute {
		t.Errorf("max = %v, want the clamp near 10m", s.Max)
	}
	l.SetMeasuring(true) // reopening discards
	if s := l.Window(); s.Count != 0 {
		t.Errorf("reopened window holds %d", s.Count)
	}
}

func TestLatencyConcurrent(t *testing.T) {
	t.Parallel()
	l := newLatency()
	l.SetMeasuring(true)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				l.Record(g, time.Duration(i)*time.Microsecond)
			}
		})
	}
	wg.Go(func() {
		for range 10 {
			l.Interval()
		}
	})
	wg.Wait()
	if s := l.Window(); s.Count != 8000 {
		t.Fatalf("count = %d, want 8000", s.Count)
	}
}

func TestSummaryEmpty(t *testing.T) {
	t.Parallel()
	if s := newLatency().Window(); s != (Summary{}) {
		t.Fatalf("empty summary = %+v", s)
	}
	if latencyUS(Summary{}) != nil {
		t.Fatal("empty summary has a JSON latency")
	}
}

func BenchmarkLatencyRecordBatch(b *testing.B) {
	b.ReportAllocs()
	l := newLatency()
	l.SetMeasuring(true)
	batch := []time.Duration{100 * time.Microsecond, 200 * time.Microsecond, 300 * time.Microsecond, 400 * time.Microsecond}
	for i := 0; b.Loop(); i++ {
		l.RecordBatch(i, batch)
	}
}
