package wsgate

import (
	"testing"
	"time"
)

// BenchmarkObserveCall measures what counting one answered call costs a
// session: for a call that succeeded (most of them, cache hits included)
// and for one that failed with a code of the wire contract.
func BenchmarkObserveCall(b *testing.B) {
	for _, code := range []ErrorCode{"", CodeInternal} {
		name := string(code)
		if name == "" {
			name = "ok"
		}
		b.Run(name, func(b *testing.B) {
			var m metrics
			start := time.Now()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					m.observeCall(code, start)
				}
			})
		})
	}
}
