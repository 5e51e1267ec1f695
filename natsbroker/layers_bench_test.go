package natsbroker

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkJetStreamLayers is BenchmarkRawJetStream at 100,000 subjects
// that exist already, with this package's stream layout added one part at
// a time: the two numbering headers (headers), the
// expected-last-subject-sequence check (check), and the republish to the
// live subjects (republish, the whole layout). It shows what the layout
// costs JetStream itself, with no Broker and no wsgate in the way. A fifth
// layer, republish-only, is the republish without the headers and the
// check: a layout that numbers publications by their stream sequence and
// lets each name its predecessor on the channel (the republish's
// Nats-Last-Sequence header) would cost that. A sixth, live, is the
// check with a plain publication of each message to its live subject in
// place of the republish: a layout whose publishing node sends the live
// copy itself, and whose subscribing nodes put copies from different
// nodes back in order by their numbers, would cost that.
//
//	go test -run '^$' -bench 'JetStreamLayers|RawJetStream/subjects=100000' -benchtime 40000x ./natsbroker
func BenchmarkJetStreamLayers(b *testing.B) {
	const subjects = 100_000
	for _, layer := range []string{"raw", "headers", "check", "republish", "republish-only", "live"} {
		b.Run(layer, func(b *testing.B) {
			cfg := rawStreamConfig()
			cfg.AllowDirect = true
			if layer == "republish" || layer == "republish-only" {
				cfg.RePublish = &jetstream.RePublish{Source: "raw.>", Destination: "live.>"}
			}
			js, stream := startRawJetStream(b, cfg)
			ctx := context.Background()
			// Subject k gets stream sequence k+1 here, and the timed
			// loop's publication i gets 100,000+i+1, so the last
			// sequence on publication i's subject is always i+1.
			data := make([]byte, 200)
			names := make([]string, subjects)
			for i := range names {
				names[i] = "raw." + strconv.Itoa(i)
				if _, err := js.PublishAsync(names[i], data); err != nil {
					b.Fatal(err)
				}
			}
			<-js.PublishAsyncComplete()
			b.ReportAllocs()
			b.ResetTimer()
			defer reportCPU(b, processCPU())
			m := &nats.Msg{Header: nats.Header{}}
			live := &nats.Msg{}
			seq, published := uint64(0), 0
			for i := 0; b.Loop(); i++ {
				k := i % subjects
				m.Subject, m.Data = names[k], data
				if layer != "raw" && layer != "republish-only" {
					seq++
					m.Header[hdrSeq] = []string{strconv.FormatUint(seq, 10)}
					m.Header[hdrEpoch] = []string{"0123456789abcdef"}
				}
				if layer == "check" || layer == "republish" || layer == "live" {
					m.Header[jetstream.ExpectedLastSubjSeqHeader] = []string{strconv.Itoa(i + 1)}
				}
				f, err := js.PublishMsgAsync(m)
				if err != nil {
					b.Fatal(err)
				}
				_ = f
				if layer == "live" {
					live.Subject, live.Header, live.Data = "live."+names[k][len("raw."):], m.Header, data
					if err := js.Conn().PublishMsg(live); err != nil {
						b.Fatal(err)
					}
				}
				published++
			}
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(time.Minute):
				b.Fatal("acknowledgements not all in within a minute")
			}
			info, err := stream.Info(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if want := uint64(subjects + published); info.State.LastSeq != want {
				b.Fatalf("stream's last sequence is %d, want %d: publications were refused", info.State.LastSeq, want)
			}
		})
	}
}
