package bench

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram range, in microseconds: 1 µs to 10 minutes, 3 significant
// digits. A value outside it is clamped to the nearest end.
const (
	histLowestUS  = 1
	histHighestUS = int64(10 * time.Minute / time.Microsecond)
	histDigits    = 3
	// latencyShards spreads recording over this many locks; connection i
	// records into shard i % latencyShards.
	latencyShards = 16
)

// Summary describes a latency distribution. Durations are rounded to
// the histogram's resolution (3 significant digits).
type Summary struct {
	Count int64
	Mean  time.Duration
	P50   time.Duration
	P90   time.Duration
	P99   time.Duration
	P999  time.Duration
	Max   time.Duration
}

// summarize reads a Summary from h, whose values are microseconds.
func summarize(h *hdrhistogram.Histogram) Summary {
	if h.TotalCount() == 0 {
		return Summary{}
	}
	q := h.ValueAtPercentiles([]float64{50, 90, 99, 99.9})
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	return Summary{
		Count: h.TotalCount(),
		Mean:  time.Duration(h.Mean() * float64(time.Microsecond)),
		P50:   us(q[50]),
		P90:   us(q[90]),
		P99:   us(q[99]),
		P999:  us(q[99.9]),
		Max:   us(h.Max()),
	}
}

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowestUS, histHighestUS, histDigits)
}

// recordUS records d in h as microseconds, clamped to the range.
func recordUS(h *hdrhistogram.Histogram, d time.Duration) {
	v := int64(d / time.Microsecond)
	v = max(v, histLowestUS)
	v = min(v, histHighestUS)
	_ = h.RecordValue(v) // in range: cannot fail
}

// latency collects the latencies of a run. Record is safe for concurrent
// use; connections record into one of several shards to keep lock
// contention low. Each shard keeps the measured window's histogram and
// the progress interval's histogram.
type latency struct {
	shards [latencyShards]latencyShard
}

type latencyShard struct {
	mu        sync.Mutex
	measuring bool                    // inside the measured window
	window    *hdrhistogram.Histogram // the measured window
	interval  *hdrhistogram.Histogram // since the last progress line
	_         [32]byte                // keeps neighbouring shards' locks off one cache line
}

func newLatency() *latency {
	l := &latency{}
	for i := range l.shards {
		l.shards[i].window = newHistogram()
		l.shards[i].interval = newHistogram()
	}
	return l
}

// Record adds one sample from connection conn.
func (l *latency) Record(conn int, d time.Duration) {
	s := &l.shards[conn%latencyShards]
	s.mu.Lock()
	recordUS(s.interval, d)
	if s.measuring {
		recordUS(s.window, d)
	}
	s.mu.Unlock()
}

// RecordBatch adds n samples of d from connection conn, under one lock.
func (l *latency) RecordBatch(conn int, ds []time.Duration) {
	s := &l.shards[conn%latencyShards]
	s.mu.Lock()
	for _, d := range ds {
		recordUS(s.interval, d)
		if s.measuring {
			recordUS(s.window, d)
		}
	}
	s.mu.Unlock()
}

// SetMeasuring opens (true) or closes (false) the measured window.
// Opening it discards what the window held.
func (l *latency) SetMeasuring(on bool) {
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		if on {
			s.window.Reset()
		}
		s.measuring = on
		s.mu.Unlock()
	}
}

// Window summarizes the measured window so far.
func (l *latency) Window() Summary {
	all := newHistogram()
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		all.Merge(s.window)
		s.mu.Unlock()
	}
	return summarize(all)
}

// Interval summarizes the samples since the previous call and starts a
// new interval.
func (l *latency) Interval() Summary {
	all := newHistogram()
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		all.Merge(s.interval)
		s.interval.Reset()
		s.mu.Unlock()
	}
	return summarize(all)
}
