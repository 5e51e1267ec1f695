package natsbroker

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wsgate/wsgate"
)

// maxPublishStates bounds the channels whose last position this node
// remembers; past it one is forgotten (and read again when needed).
const maxPublishStates = 100_000

// publishState is what this node believes the end of one channel's
// stream is. lock, a one-slot channel so that waiting for it can end
// with a context, serialises this node's publishes on the channel and
// guards the other fields.
type publishState struct {
	lock      chan struct{}
	subject   string // the channel's subject in the stream; set once, by get
	known     bool   // the fields below are believed current
	seq       uint64 // the channel's last Seq
	epoch     string
	streamSeq uint64 // the stream sequence of the channel's last publication; 0: none
}

// publishStates holds the publishStates of the channels this node
// published on lately.
type publishStates struct {
	mu sync.Mutex
	m  map[string]*publishState // guarded by mu
}

func (ps *publishStates) init() { ps.m = make(map[string]*publishState) }

// get returns channel's publishState, making it if needed, with subject
// the channel's subject in the stream.
func (ps *publishStates) get(channel, subjectPrefix string) *publishState {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	st := ps.m[channel]
	if st == nil {
		if len(ps.m) >= maxPublishStates {
			for k := range ps.m { // forget one; a publish holding it still works
				delete(ps.m, k)
				break
			}
		}
		st = &publishState{lock: make(chan struct{}, 1), subject: subjectPrefix + encodeToken(channel)}
		ps.m[channel] = st
	}
	return st
}

// Publish implements wsgate.Broker. In JetStream the publication is
// given the channel's next Seq with an optimistic check: it is stored
// only if the channel's last publication is still the one this node
// knows of; when another node published first, Publish reads the new
// last one and tries again, until ctx ends. It returns once the stream
// has stored it. The server's own channels ('$…') and a Broker without JetStream
// publish live only, with Seq 0.
//
// It fails at once with ErrUnavailable while NATS is unreachable or
// Options.MaxPending publications already wait.
func (b *Broker) Publish(ctx context.Context, channel string, data json.RawMessage) (wsgate.Publication, error) {
	if err := b.usable(); err != nil {
		return wsgate.Publication{}, err
	}
	select {
	case b.pending <- struct{}{}:
		defer func() { <-b.pending }()
	default:
		return wsgate.Publication{}, fmt.Errorf("%w: %d publications already wait for NATS", ErrUnavailable, cap(b.pending))
	}
	if b.liveOnly(channel) {
		if err := b.nc.Publish(b.livePrefix+encodeToken(channel), data); err != nil {
			return wsgate.Publication{}, unavailable("publish", err)
		}
		b.stats.published.Add(1)
		return wsgate.Publication{Channel: channel, Data: data}, nil
	}
	st := b.pubs.get(channel, b.storePrefix)
	select {
	case st.lock <- struct{}{}:
		defer func() { <-st.lock }()
	case <-ctx.Done():
		return wsgate.Publication{}, ctx.Err()
	}
	for attempt := 1; ; attempt++ {
		if !st.known {
			rctx, cancel := b.bound(ctx)
			last, found, err := b.readLast(rctx, st.subject)
			cancel()
			if err != nil {
				return wsgate.Publication{}, ctxOr(rctx, err)
			}
			if found {
				st.seq, st.epoch, st.streamSeq = last.seq, last.epoch, last.streamSeq
			} else {
				// A new channel, or one whose history all expired: a new
				// epoch tells resuming clients that what they had is gone.
				st.seq, st.epoch, st.streamSeq = 0, newEpoch(), 0
			}
			st.known = true
		}
		p := wsgate.Publication{Channel: channel, Seq: st.seq + 1, Epoch: st.epoch, Data: data}
		g := outgoing{
			subject: st.subject,
			seq:     strconv.FormatUint(p.Seq, 10),
			epoch:   p.Epoch,
			expect:  strconv.FormatUint(st.streamSeq, 10),
			data:    data,
		}
		streamSeq, err := b.acks.publish(ctx, g, b.currentLink().Done(), b.ctx.Done())
		if err == nil {
			st.seq, st.streamSeq = p.Seq, streamSeq
			b.stats.published.Add(1)
			return p, nil
		}
		st.known = false
		switch {
		case isConflict(err):
			// Another node published first. Try again until ctx ends;
			// after a few losses wait a random moment, so that a node
			// that must read before each try is not starved by one that
			// need not.
			b.stats.conflicts.Add(1)
			if attempt > 2 {
				select {
				case <-time.After(time.Duration(rand.N(min(attempt, 50))) * time.Millisecond):
				case <-ctx.Done():
					return wsgate.Publication{}, ctxOr(ctx, err)
				}
			}
			continue
		case errors.Is(err, jetstream.ErrNoStreamResponse) && attempt == 1 && b.ensureStream(ctx):
			continue // NATS lost the stream (restarted without its store): made again
		case errors.Is(err, ErrClosed), errors.Is(err, errLinkLost):
			return wsgate.Publication{}, err
		}
		return wsgate.Publication{}, ctxOr(ctx, unavailable("publish", err))
	}
}

// isConflict reports whether a publish failed because the channel's last
// publication was not the one expected: another node published first.
func isConflict(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
}

// ctxOr returns why ctx, made by Broker.bound, ended: the connection
// was lost (ErrUnavailable) or the Broker closed (ErrClosed), or else
// ctx's error, which the server turns into timeout. When ctx has not
// ended it returns err.
func ctxOr(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	if cause := context.Cause(ctx); errors.Is(cause, ErrUnavailable) || errors.Is(cause, ErrClosed) {
		return cause
	}
	return fmt.Errorf("natsbroker: %w", ctx.Err())
}

// newEpoch returns a new random epoch: 16 hex digits.
func newEpoch() string {
	var b [8]byte
	crand.Read(b[:])
	return hex.EncodeToString(b[:])
}
