package client

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	lo, hi := 100*time.Millisecond, 2*time.Second
	tests := []struct {
		n    int
		r    float64
		want time.Duration
	}{
		{0, 0, 50 * time.Millisecond},
		{0, 0.999999, 99999950 * time.Nanosecond},
		{0, 0.5, 75 * time.Millisecond},
		{1, 0, 100 * time.Millisecond},
		{2, 0, 200 * time.Millisecond},
		{4, 0.5, 1200 * time.Millisecond},
		{5, 0, time.Second},  // capped at hi
		{50, 0, time.Second}, // no overflow
		{1000, 0.5, 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := backoff(tt.n, lo, hi, tt.r); got != tt.want {
			t.Errorf("backoff(%d, r=%v) = %v, want %v", tt.n, tt.r, got, tt.want)
		}
	}
}

// TestBackoffGrows checks the bounds for any jitter: attempt n waits
// between half and all of min(lo·2ⁿ, hi).
func TestBackoffGrows(t *testing.T) {
	t.Parallel()
	lo, hi := 10*time.Millisecond, 300*time.Millisecond
	for n := range 10 {
		ceil := min(lo<<n, hi)
		for _, r := range []float64{0, 0.25, 0.5, 0.75, 0.9999} {
			if d := backoff(n, lo, hi, r); d < ceil/2 || d >= ceil {
				t.Errorf("backoff(%d, %v) = %v, want in [%v, %v)", n, r, d, ceil/2, ceil)
			}
		}
	}
}

// TestStable checks when a connection's life starts the attempt count
// over: after 2s up, or BackoffMax when that is shorter; a connection
// dropped sooner (a crash-looping node) keeps the count growing.
func TestStable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lived, max time.Duration
		want       bool
	}{
		{0, 30 * time.Second, false},
		{100 * time.Millisecond, 30 * time.Second, false}, // dropped on connect
		{1999 * time.Millisecond, 30 * time.Second, false},
		{2 * time.Second, 30 * time.Second, true},
		{3 * time.Second, 30 * time.Second, true},  // up between two cuts of a flapping network
		{29 * time.Second, 30 * time.Second, true}, // before: only from 30s
		{500 * time.Millisecond, time.Second, false},
		{time.Second, time.Second, true}, // BackoffMax shorter than 2s
		{50 * time.Millisecond, 50 * time.Millisecond, true},
	}
	for _, tt := range tests {
		if got := stable(tt.lived, tt.max); got != tt.want {
			t.Errorf("stable(%v, max %v) = %v, want %v", tt.lived, tt.max, got, tt.want)
		}
	}
}
