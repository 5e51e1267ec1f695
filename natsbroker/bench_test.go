package natsbroker

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
)

// BenchmarkPublish measures publications through one Broker into
// JetStream (history on, file storage, an embedded NATS server in this
// process), from 32 goroutines at once, spread over 1, 1,000 and 100,000
// channels that exist already (each had a publication before the timer
// started). One channel's publications go one at a time (each waits for
// its acknowledgement), so it shows the round trip; many channels show
// the throughput.
//
//	go test -run '^$' -bench Publish -benchtime 20000x ./natsbroker
func BenchmarkPublish(b *testing.B) {
	ns := startNATS(b, b.TempDir(), -1)
	br, err := New(Options{URL: ns.ClientURL()})
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	data := json.RawMessage(`{"price":101.25,"symbol":"ACME"}`)
	ctx := context.Background()
	for _, channels := range []int{1, 1000, 100_000} {
		names := make([]string, channels)
		for i := range names {
			names[i] = "bench." + strconv.Itoa(channels) + "." + strconv.Itoa(i)
		}
		publishAllOn(b, br, names)
		b.Run(fmt.Sprintf("channels=%d", channels), func(b *testing.B) {
			var next atomic.Int64
			b.SetParallelism(16)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					ch := names[int(next.Add(1))%len(names)]
					if _, err := br.Publish(ctx, ch, data); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
