package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/wsgate/wsgate/internal/frame"
)

// counter is the cheapest Subscriber: it counts what it is sent.
type counter struct{ n int }

func (c *counter) Send(*frame.Prepared) { c.n++ }

func BenchmarkPublish(b *testing.B) {
	data := json.RawMessage(`{"symbol":"ACME","price":123.45,"ts":1700000000000}`)
	for _, n := range []int{1, 100, 10_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			h := New(Options{})
			for range n {
				h.Subscribe(context.Background(), "ticks", &counter{}, nil)
			}
			b.ReportAllocs()
			seq := uint64(0)
			for b.Loop() {
				seq++
				h.Publish("ticks", Publication{Seq: seq, Epoch: "e", Data: data})
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/delivery")
		})
	}
}

func BenchmarkSubscribeUnsubscribe(b *testing.B) {
	h := New(Options{})
	for i := range 1000 {
		h.Subscribe(context.Background(), fmt.Sprint("ch", i), &counter{}, nil)
	}
	s := &counter{}
	b.ReportAllocs()
	for b.Loop() {
		h.Subscribe(context.Background(), "ch1", s, nil)
		h.Unsubscribe("ch1", s)
	}
}
