package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgate/wsgate/ws"
)

// ErrVerify is wrapped by the error of an echo run in which a reply was
// not byte for byte what was sent.
var ErrVerify = errors.New("bench: echo verification failed")

// patternSpan is how many distinct payloads a connection cycles
// through: message seq carries pattern[off : off+size] with off = (seq +
// 7·conn) mod patternSpan. It is prime and larger than MaxInflight, so a
// reply that is lost, repeated or reordered among the messages in flight
// shows up as a mismatch.
const patternSpan = 1021

// echoLoad is the state an echo run shares between its connections.
type echoLoad struct {
	r        *runner
	op       ws.Opcode
	size     int
	inflight int
	pattern  []byte        // binary and text: read-only, size+patternSpan bytes
	json     *jsonTemplate // json: read-only

	verified, mismatched atomic.Int64
}

func newEchoLoad(r *runner) (*echoLoad, error) {
	e := &echoLoad{r: r, op: ws.OpBinary, size: r.o.Size, inflight: r.o.Inflight}
	if r.o.Payload.isText() {
		e.op = ws.OpText
	}
	if r.o.Payload == PayloadJSON {
		var err error
		e.json, err = newJSONTemplate(r.o.Size)
		return e, err
	}
	e.pattern = makePattern(r.o.Size+patternSpan, r.o.Payload == PayloadText)
	return e, nil
}

// makePattern returns n pseudo-random bytes, ASCII letters and digits
// when text (so every slice is valid UTF-8).
func makePattern(n int, text bool) []byte {
	const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	rng := rand.New(rand.NewPCG(1, 2))
	p := make([]byte, n)
	for i := range p {
		if text {
			p[i] = alnum[rng.IntN(len(alnum))]
		} else {
			p[i] = byte(rng.Uint32())
		}
	}
	return p
}

// outbox makes the payloads of one connection and keeps them while they
// are in flight. Binary and text payloads are slices of the shared
// pattern; a JSON payload is written into the ring slot of its sequence
// number. An outbox belongs to its connection's goroutine.
type outbox struct {
	e    *echoLoad
	id   int
	ring []byte // json: inflight slots of size bytes
}

func (e *echoLoad) newOutbox(id int) *outbox {
	b := &outbox{e: e, id: id}
	if e.json != nil {
		b.ring = make([]byte, e.inflight*e.size)
	}
	return b
}

// next makes the payload of message seq. It is valid until next makes
// message seq+inflight.
func (b *outbox) next(seq uint64) []byte {
	if b.e.json == nil {
		return b.sent(seq)
	}
	p := b.sent(seq)
	b.e.json.fill(p, b.id, seq)
	return p
}

// sent is the payload of message seq, made by next and still in flight.
// A pattern payload is message seq = (seq + 7·conn) mod patternSpan of
// the pattern.
func (b *outbox) sent(seq uint64) []byte {
	if b.e.json != nil {
		i := int(seq%uint64(b.e.inflight)) * b.e.size
		return b.ring[i : i+b.e.size]
	}
	off := int((seq + 7*uint64(b.id)) % patternSpan)
	return b.e.pattern[off : off+b.e.size]
}

// loop drives one connection until ctx ends: it keeps e.inflight
// messages in flight, checks each reply against what was sent in that
// position and records the round trip.
func (e *echoLoad) loop(ctx context.Context, c *conn) {
	release := c.stopOn(ctx)
	defer func() {
		release()
		c.shutdown(time.Second)
	}()
	out := e.newOutbox(c.id)
	sentAt := make([]time.Time, e.inflight) // ring, by seq
	var sent, recv uint64
	now := time.Now()
	for ; sent < uint64(e.inflight); sent++ {
		c.queue(e.op, out.next(sent))
		sentAt[sent%uint64(e.inflight)] = now
	}
	if err := c.flush(); err != nil {
		e.r.connError(ctx, c, err)
		return
	}
	lat := make([]time.Duration, 0, e.inflight)
	for {
		lat = lat[:0]
		now = time.Time{}
		var ok, bad int64
		err := c.read(func(ev ws.Event) {
			if now.IsZero() {
				now = time.Now()
			}
			if ev.Opcode == e.op && bytes.Equal(ev.Payload, out.sent(recv)) {
				ok++
			} else {
				bad++
			}
			lat = append(lat, now.Sub(sentAt[recv%uint64(e.inflight)]))
			recv++
			if ctx.Err() == nil {
				c.queue(e.op, out.next(sent)) // reuses recv's slot: checked above
				sentAt[sent%uint64(e.inflight)] = now
				sent++
			}
		})
		if len(lat) > 0 {
			e.r.lat.RecordBatch(c.id, lat)
			e.verified.Add(ok)
			if bad > 0 {
				e.mismatched.Add(bad)
				e.r.errs.Add("reply differed from the message sent", bad)
			}
		}
		if err == nil {
			err = c.flush()
		}
		if err != nil {
			e.r.connError(ctx, c, err)
			return
		}
	}
}

// runEcho is "wsgate bench echo".
func (r *runner) runEcho(ctx context.Context) (*Result, error) {
	e, err := newEchoLoad(r)
	if err != nil {
		return nil, err
	}
	readBuf := max(16<<10, min(e.size*e.inflight+64, 256<<10))
	conns, st, err := r.openAll(ctx, r.o.Conns, readBuf, nil)
	if err != nil {
		return nil, err
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { e.loop(loadCtx, c) })
	}
	w, werr := r.measure(ctx, func() string {
		return "verified " + commas(e.verified.Load())
	})
	stopLoad()
	wg.Wait()
	res := r.result(st, w, r.lat.Window())
	res.Size, res.Payload, res.Text, res.Inflight = r.o.Size, r.o.Payload.String(), r.o.Payload.isText(), r.o.Inflight
	res.Verified, res.Mismatched = e.verified.Load(), e.mismatched.Load()
	res.Errors = r.errs.Snapshot()
	if werr != nil {
		return res, werr
	}
	if res.Mismatched > 0 {
		return res, fmt.Errorf("%w: %s of %s replies differed from the message sent",
			ErrVerify, commas(res.Mismatched), commas(res.Mismatched+res.Verified))
	}
	return res, r.failIfErrors()
}

// failIfErrors returns an error summarizing the run's errors, if any.
func (r *runner) failIfErrors() error {
	if n := r.errs.Total(); n > 0 {
		return fmt.Errorf("bench: %s errors during the run: %s", commas(n), countsText(r.errs.Snapshot()))
	}
	return nil
}
