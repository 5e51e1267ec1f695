package natsbroker

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
)

// Headers each stored publication carries: its number in its channel and
// the channel's epoch. JetStream adds its own (Nats-Sequence, …).
const (
	hdrSeq   = "Wsgate-Seq"
	hdrEpoch = "Wsgate-Epoch"

	hdrStreamSeq = "Nats-Sequence"    // set by JetStream on direct gets and republished messages
	hdrPending   = "Nats-Num-Pending" // on a batch's end: messages left after it
)

// stored is one publication as JetStream keeps it.
type stored struct {
	streamSeq uint64 // its sequence in the stream
	seq       uint64 // its Seq in its channel
	epoch     string
	data      json.RawMessage
}

// parseStored reads a stored publication from a message JetStream sent
// (a direct get's answer or a republished copy). ok is false for a
// message without wsgate's headers or whose data is not JSON: something
// else published on the stream's subjects, and it is skipped.
func parseStored(m *nats.Msg) (p stored, ok bool) {
	if m.Header == nil {
		return stored{}, false
	}
	var err1, err2 error
	p.streamSeq, err1 = strconv.ParseUint(m.Header.Get(hdrStreamSeq), 10, 64)
	p.seq, err2 = strconv.ParseUint(m.Header.Get(hdrSeq), 10, 64)
	p.epoch = m.Header.Get(hdrEpoch)
	if err1 != nil || err2 != nil || p.seq == 0 || p.epoch == "" || !json.Valid(m.Data) {
		return stored{}, false
	}
	p.data = m.Data
	return p, true
}

// directRequest is a JetStream direct get (the stream's AllowDirect):
// answered by any server that holds the stream, without a consumer.
type directRequest struct {
	Seq      uint64 `json:"seq,omitempty"`
	LastFor  string `json:"last_by_subj,omitempty"`
	NextFor  string `json:"next_by_subj,omitempty"`
	Batch    int    `json:"batch,omitempty"`
	MaxBytes int    `json:"max_bytes,omitempty"`
}

// status is a direct get's answer without a message: "404" (none),
// "204" (the end of a batch), "408", …
func status(m *nats.Msg) string {
	if len(m.Data) > 0 || m.Header == nil {
		return ""
	}
	return m.Header.Get("Status")
}

// readLast returns the last publication of the stream subject subj;
// found is false when the subject holds none.
func (b *Broker) readLast(ctx context.Context, subj string) (p stored, found bool, err error) {
	req, _ := json.Marshal(directRequest{LastFor: subj})
	m, err := b.nc.RequestWithContext(ctx, b.directGet, req)
	if err != nil {
		return stored{}, false, unavailable("read the last publication", err)
	}
	switch st := status(m); st {
	case "":
	case "404":
		return stored{}, false, nil
	default:
		return stored{}, false, fmt.Errorf("%w: read the last publication: status %s %s", ErrUnavailable, st, m.Header.Get("Description"))
	}
	p, ok := parseStored(m)
	return p, ok, nil
}

// readBatchMax bounds the bytes one batch read asks for.
const readBatchMax = 4 << 20

// readFrom returns up to max publications of the stream subject subj
// from stream sequence from on, oldest first, in one batch read, and
// whether more were left after them.
func (b *Broker) readFrom(ctx context.Context, subj string, from uint64, max int) (ps []stored, more bool, err error) {
	b.stats.reads.Add(1)
	inbox := b.nc.NewRespInbox()
	sub, err := b.nc.SubscribeSync(inbox)
	if err != nil {
		return nil, false, unavailable("read history", err)
	}
	defer sub.Unsubscribe()
	sub.SetPendingLimits(-1, -1) // the batch is bounded by max and readBatchMax
	req, _ := json.Marshal(directRequest{Seq: max1(from), NextFor: subj, Batch: max, MaxBytes: readBatchMax})
	if err := b.nc.PublishRequest(b.directGet, inbox, req); err != nil {
		return nil, false, unavailable("read history", err)
	}
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return nil, false, unavailable("read history", err)
		}
		switch st := status(m); st {
		case "":
			if p, ok := parseStored(m); ok {
				ps = append(ps, p)
			}
		case "404":
			return ps, false, nil
		case "204":
			n, _ := strconv.ParseUint(m.Header.Get(hdrPending), 10, 64)
			return ps, n > 0, nil
		default:
			return nil, false, fmt.Errorf("%w: read history: status %s %s", ErrUnavailable, st, m.Header.Get("Description"))
		}
	}
}

// readAll returns every retained publication of the stream subject
// subj, oldest first.
func (b *Broker) readAll(ctx context.Context, subj string) ([]stored, error) {
	var all []stored
	from := uint64(1)
	for range 8 { // more than one batch only when publications race the read
		ps, more, err := b.readFrom(ctx, subj, from, b.opts.HistorySize)
		if err != nil {
			return nil, err
		}
		all = append(all, ps...)
		if !more || len(ps) == 0 {
			return all, nil
		}
		from = ps[len(ps)-1].streamSeq + 1
	}
	return all, nil
}

func max1(n uint64) uint64 { return max(n, 1) }
