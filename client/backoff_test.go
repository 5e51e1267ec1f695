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
