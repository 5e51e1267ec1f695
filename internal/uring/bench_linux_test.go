//go:build linux

package uring_test

import (
	"fmt"
	"testing"

	"github.com/wsgate/wsgate/internal/uring"
)

// BenchmarkNop submits and reaps NOPs in batches of 1 and 64: one
// io_uring_enter per batch, so ns/op against the batch size shows what a
// system call costs per request.
func BenchmarkNop(b *testing.B) {
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			r := newRing(b, 64, uring.Options{})
			b.ReportAllocs()
			for i := 0; i < b.N; i += batch {
				for j := range batch {
					r.GetSQE().PrepNop(uint64(j))
				}
				if _, err := r.SubmitAndWait(uint32(batch)); err != nil {
					b.Fatal(err)
				}
				for got := 0; got < batch; {
					c := r.Completions()
					got += len(c)
					r.CQAdvance(uint32(len(c)))
				}
			}
			b.ReportMetric(float64(batch), "ops/enter")
		})
	}
}
