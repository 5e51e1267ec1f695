package natsbroker

import (
	"context"
	"runtime"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// outbox sends the stream's publications from one goroutine. A
// publisher that wrote its own publication would wake nats.go's flusher
// for it alone, a write to the socket per publication (and for the
// server a read and a write of the acknowledgement); publications queued
// here go out back to back, so the flusher finds many buffered at once,
// as it does for one asynchronous publisher.
//
// Safe for concurrent use: add from any goroutine; run is the one
// sender, started and stopped by the Broker. The queue holds at most
// the publications that wait (Options.MaxPending).
type outbox struct {
	mu    sync.Mutex
	queue []outgoing // guarded by mu
	spare []outgoing // guarded by mu: the sender's last batch, for reuse
	wake  chan struct{}
}

// outgoing is one publication for the stream. Its acknowledgement comes
// to the reply subject acks gives id.
type outgoing struct {
	subject    string
	seq, epoch string // the Wsgate-Seq and Wsgate-Epoch headers
	expect     string // the subject's last stream sequence, for the check
	data       []byte
	id         uint64
}

func (o *outbox) init() { o.wake = make(chan struct{}, 1) }

// add queues m for the sender.
func (o *outbox) add(m outgoing) {
	o.mu.Lock()
	o.queue = append(o.queue, m)
	first := len(o.queue) == 1
	o.mu.Unlock()
	if first {
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
}

// run sends what is queued until ctx ends, each publication asking for
// its acknowledgement at a's reply subject for its id. A publication
// that nats.go refuses (the connection is closed, or reconnecting with
// its buffer full) fails at once.
func (o *outbox) run(ctx context.Context, nc *nats.Conn, a *acks) {
	m := &nats.Msg{Header: nats.Header{
		hdrSeq:                              make([]string, 1),
		hdrEpoch:                            make([]string, 1),
		jetstream.ExpectedLastSubjSeqHeader: make([]string, 1),
	}}
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		}
		// Publishers come one by one, as their previous acknowledgements
		// arrive; letting those already woken run first gathers them
		// into one batch (tens of publications under load, not one).
		runtime.Gosched()
		o.mu.Lock()
		batch := o.queue
		o.queue = o.spare[:0]
		o.mu.Unlock()
		for i := range batch {
			g := &batch[i]
			m.Subject, m.Reply, m.Data = g.subject, a.replySubject(g.id), g.data
			m.Header[hdrSeq][0] = g.seq
			m.Header[hdrEpoch][0] = g.epoch
			m.Header[jetstream.ExpectedLastSubjSeqHeader][0] = g.expect
			if err := nc.PublishMsg(m); err != nil {
				a.resolve(g.id, ackResult{err: err})
			}
			*g = outgoing{} // hold no data past its send
		}
		m.Data = nil
		o.mu.Lock()
		o.spare = batch[:0]
		o.mu.Unlock()
	}
}
