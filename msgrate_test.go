package wsgate

import (
	"testing"
	"time"
)

func TestMessageRateAllow(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name      string
		perSecond int
		at        []time.Duration // arrival times
		want      []bool
	}{
		{"a second's worth at once, then refused", 3, []time.Duration{0, 0, 0, 0}, []bool{true, true, true, false}},
		{"one token back per interval", 4, []time.Duration{0, 0, 0, 0, 0, 250 * ms, 250 * ms, 500 * ms}, []bool{true, true, true, true, false, true, false, true}},
		{"a quiet second fills the bucket, no more", 2, []time.Duration{0, 10 * time.Second, 10 * time.Second, 10 * time.Second}, []bool{true, true, true, false}},
		{"steady at the rate never refused", 10, []time.Duration{0, 100 * ms, 200 * ms, 300 * ms, 400 * ms, 500 * ms}, []bool{true, true, true, true, true, true}},
		{"refusals take no token", 1, []time.Duration{0, 500 * ms, 900 * ms, time.Second}, []bool{true, false, false, true}},
		{"a clock that starts late", 2, []time.Duration{time.Hour, time.Hour, time.Hour}, []bool{true, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r messageRate
			for i, at := range tt.at {
				if got := r.allow(at, tt.perSecond); got != tt.want[i] {
					t.Fatalf("message %d at %v: allow %v, want %v", i, at, got, tt.want[i])
				}
			}
		})
	}
}
