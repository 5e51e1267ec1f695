package natsbroker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wsgate/wsgate/internal/deadline"
)

// acks matches the stream's acknowledgements to the publications that
// wait for them. Every publication goes out with a reply subject of its
// own under one inbox prefix, and one subscription to that prefix
// receives every acknowledgement: a publication costs no request, no
// context and no subscription of its own, and an acknowledgement is read
// by a scan of its few bytes, not by encoding/json (errors, which are
// rare, are).
//
// Safe for concurrent use. The subscription lives as long as the
// connection; nats.go restores it after a reconnection.
type acks struct {
	prefix string // INBOX.: the reply subject is prefix + id
	sub    *nats.Subscription

	mu      sync.Mutex
	next    uint64
	waiting map[uint64]chan ackResult // guarded by mu

	waiters   sync.Pool        // of chan ackResult with room for one, empty
	deadlines *deadline.Shared // of the publications waiting, Options.RequestTimeout
	out       outbox           // sends the publications
}

// ackResult is what an acknowledgement said: the stream sequence that
// stored the publication, or why it was not stored.
type ackResult struct {
	seq uint64
	err error
}

// start subscribes to the acknowledgements on nc; a publication waits
// for its acknowledgement for timeout.
func (a *acks) start(nc *nats.Conn, timeout time.Duration) error {
	a.deadlines = deadline.New(context.Background(), timeout)
	a.prefix = nats.NewInbox() + "."
	a.waiting = make(map[uint64]chan ackResult)
	sub, err := nc.Subscribe(a.prefix+"*", a.receive)
	if err != nil {
		return fmt.Errorf("natsbroker: subscribe to acknowledgements: %w", err)
	}
	sub.SetPendingLimits(-1, -1) // bounded by the publications waiting (Options.MaxPending)
	a.sub = sub
	a.out.init()
	return nil
}

// replySubject is where the acknowledgement of publication id comes.
func (a *acks) replySubject(id uint64) string { return a.prefix + strconv.FormatUint(id, 10) }

// receive hands an acknowledgement to the publication waiting for it;
// one nobody waits for any more is dropped.
func (a *acks) receive(m *nats.Msg) {
	id, err := strconv.ParseUint(m.Subject[len(a.prefix):], 10, 64)
	if err != nil {
		return
	}
	a.resolve(id, parseAck(m))
}

// resolve hands r to publication id, unless nobody waits for it any more.
func (a *acks) resolve(id uint64, r ackResult) {
	a.mu.Lock()
	ch := a.waiting[id]
	delete(a.waiting, id)
	a.mu.Unlock()
	if ch != nil {
		ch <- r // ch has room for one
	}
}

// publish sends g through the outbox, asking for its acknowledgement,
// and waits for it: until ctx ends, the acknowledgement timeout passes,
// link ends (the connection was lost) or the Broker closes (closed).
func (a *acks) publish(ctx context.Context, g outgoing, link, closed <-chan struct{}) (uint64, error) {
	ch, _ := a.waiters.Get().(chan ackResult)
	if ch == nil {
		ch = make(chan ackResult, 1)
	}
	lease := a.deadlines.Acquire()
	a.mu.Lock()
	a.next++
	id := a.next
	a.waiting[id] = ch
	a.mu.Unlock()
	answered := false
	defer func() {
		lease.Release()
		a.mu.Lock()
		_, unclaimed := a.waiting[id]
		delete(a.waiting, id)
		a.mu.Unlock()
		if !answered && !unclaimed {
			<-ch // receive took the waiter from the map: its send is on the way
		}
		a.waiters.Put(ch)
	}()
	g.id = id
	a.out.add(g)
	select {
	case r := <-ch:
		answered = true
		return r.seq, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-lease.Context().Done():
		return 0, context.DeadlineExceeded
	case <-closed:
		return 0, ErrClosed
	case <-link:
		// A connection's context ends with the Broker's too.
		select {
		case <-closed:
			return 0, ErrClosed
		default:
			return 0, errLinkLost
		}
	}
}

// parseAck reads a JetStream publish acknowledgement:
// {"stream":"S","seq":N,…} when stored, {"error":{…},…} when not, or a
// status header (503: no stream listens on the subject). The usual
// shapes of a stored one are scanned (scanAck); anything else goes to
// encoding/json.
func parseAck(m *nats.Msg) ackResult {
	if len(m.Data) == 0 {
		if m.Header.Get("Status") == "503" {
			return ackResult{err: jetstream.ErrNoStreamResponse}
		}
		return ackResult{err: fmt.Errorf("natsbroker: empty acknowledgement (status %q)", m.Header.Get("Status"))}
	}
	if seq, ok := scanAck(m.Data); ok {
		return ackResult{seq: seq}
	}
	var ack struct {
		Seq   uint64              `json:"seq"`
		Error *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(m.Data, &ack); err != nil {
		return ackResult{err: fmt.Errorf("natsbroker: acknowledgement %q: %w", m.Data, err)}
	}
	if ack.Error != nil {
		return ackResult{err: ack.Error}
	}
	if ack.Seq == 0 {
		return ackResult{err: fmt.Errorf("natsbroker: acknowledgement %q without a sequence", m.Data)}
	}
	return ackResult{seq: ack.Seq}
}

// scanAck reads the acknowledgement of a stored publication in the exact
// shapes the server writes, {"stream":"S","seq":N} with perhaps
// ,"domain":"D" before seq and ,"duplicate":B after it, and reports false
// for anything else.
func scanAck(b []byte) (uint64, bool) {
	b, ok := bytes.CutPrefix(b, []byte(`{"stream":`))
	if !ok {
		return 0, false
	}
	if b, ok = cutPlainString(b); !ok {
		return 0, false
	}
	if rest, ok := bytes.CutPrefix(b, []byte(`,"domain":`)); ok {
		if b, ok = cutPlainString(rest); !ok {
			return 0, false
		}
	}
	if b, ok = bytes.CutPrefix(b, []byte(`,"seq":`)); !ok {
		return 0, false
	}
	n := 0
	for n < len(b) && '0' <= b[n] && b[n] <= '9' {
		n++
	}
	seq, err := strconv.ParseUint(string(b[:n]), 10, 64)
	if err != nil || seq == 0 || b[0] == '0' {
		return 0, false
	}
	switch string(b[n:]) {
	case "}", `,"duplicate":true}`, `,"duplicate":false}`:
		return seq, true
	}
	return 0, false
}

// cutPlainString cuts a JSON string without escapes from the start of b.
func cutPlainString(b []byte) ([]byte, bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, false
	}
	i := bytes.IndexByte(b[1:], '"')
	if i < 0 || bytes.IndexByte(b[1:1+i], '\\') >= 0 {
		return nil, false
	}
	return b[2+i:], true
}
