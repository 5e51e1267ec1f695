package natsbroker

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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
		for _, publishers := range []int{32, 512} {
			b.Run(fmt.Sprintf("channels=%d/publishers=%d", channels, publishers), func(b *testing.B) {
				var next atomic.Int64
				b.SetParallelism(max(1, publishers/runtime.GOMAXPROCS(0)))
				b.ReportAllocs()
				b.ResetTimer()
				defer reportCPU(b, processCPU())
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
}

// BenchmarkRawJetStream is the yardstick of BenchmarkPublish: the same
// embedded server and stream layout (one stream, 128 messages kept per
// subject, file storage), publishing 200-byte messages straight with
// nats.go's asynchronous publish, 4,000 unacknowledged at most, over 1,
// 1,000 and 100,000 subjects. No numbering, no check of the last
// sequence: what JetStream alone does.
//
//	go test -run '^$' -bench 'Publish|RawJetStream' -benchtime 20000x ./natsbroker
func BenchmarkRawJetStream(b *testing.B) {
	js, _ := startRawJetStream(b, rawStreamConfig())
	data := make([]byte, 200)
	for _, subjects := range []int{1, 1000, 100_000} {
		names := make([]string, subjects)
		for i := range names {
			names[i] = "raw." + strconv.Itoa(subjects) + "." + strconv.Itoa(i)
		}
		b.Run(fmt.Sprintf("subjects=%d", subjects), func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b, processCPU())
			for i := 0; b.Loop(); i++ {
				if _, err := js.PublishAsync(names[i%len(names)], data); err != nil {
					b.Fatal(err)
				}
			}
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(time.Minute):
				b.Fatal("acknowledgements not all in within a minute")
			}
		})
	}
}

// rawStreamConfig is the yardstick's stream: one for every subject under
// "raw.", 128 messages kept per subject, file storage.
func rawStreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.>"}, MaxMsgsPerSubject: 128, Storage: jetstream.FileStorage, Discard: jetstream.DiscardOld}
}

// startRawJetStream starts an embedded NATS server for the test and makes
// cfg's stream on it, with a client whose asynchronous publishes keep
// 4,000 unacknowledged at most.
func startRawJetStream(b *testing.B, cfg jetstream.StreamConfig) (jetstream.JetStream, jetstream.Stream) {
	ns := startNATS(b, b.TempDir(), -1)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4000))
	if err != nil {
		b.Fatal(err)
	}
	stream, err := js.CreateStream(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	return js, stream
}

// processCPU is the CPU time the test process has used so far, NATS
// server included: on a shared machine the CPU a publication costs says
// more than its wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process CPU time per operation since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(processCPU()-start)/float64(b.N)/1e3, "cpu-µs/op")
}
