// Package lograte keeps a flood of identical log lines from flooding the
// log: a slog.Handler that passes each distinct message at a bounded rate
// and counts what it drops.
//
// A hostile client or backend can make a server log a line per request
// (an unusable backend reply, a failed handshake). Handler lets a burst
// of Burst lines of one message through, then one per Interval; the lines
// it drops are counted (Dropped), and the next line of that message it
// passes carries "suppressed"=N, the count dropped since the last one.
// Messages are told apart by their text alone, not their attributes, so
// lines that differ only in a client's address are one message. The
// number of distinct messages tracked is bounded (MaxMessages); past it
// the least recent is forgotten.
package lograte

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultBurst    = 10
	DefaultInterval = time.Second
	MaxMessages     = 1024
)

// Options tune a Handler. The zero value is ready to use.
type Options struct {
	// Burst is how many lines of one message pass before the rate
	// applies. Zero means DefaultBurst.
	Burst int
	// Interval is the time between two lines of one message once the
	// burst is spent. Zero means DefaultInterval.
	Interval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Handler wraps another slog.Handler. It is safe for concurrent use.
type Handler struct {
	next  slog.Handler
	state *state // shared by the handlers WithAttrs and WithGroup derive
}

type state struct {
	opts    Options
	dropped atomic.Uint64

	mu   sync.Mutex
	msgs map[string]*bucket // guarded by mu
}

// bucket is one message's allowance: tokens left, refilled one per
// Interval up to Burst, and lines dropped since the last one passed.
type bucket struct {
	tokens     int
	refilled   time.Time
	suppressed int
	used       time.Time
}

// New returns a Handler passing lines to next at a bounded rate per
// message.
func New(next slog.Handler, opts Options) *Handler {
	if opts.Burst <= 0 {
		opts.Burst = DefaultBurst
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Handler{next: next, state: &state{opts: opts, msgs: make(map[string]*bucket)}}
}

// Dropped returns how many lines the Handler (and those derived from it)
// has dropped.
func (h *Handler) Dropped() uint64 { return h.state.dropped.Load() }

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler: it passes r on, with the count of lines
// of the same message suppressed before it, or drops and counts it.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	suppressed, ok := h.state.allow(r.Message)
	if !ok {
		h.state.dropped.Add(1)
		return nil
	}
	if suppressed > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("suppressed", suppressed))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler; the result shares h's allowances.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(attrs), state: h.state}
}

// WithGroup implements slog.Handler; the result shares h's allowances.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), state: h.state}
}

// allow takes a token of msg's bucket. It returns whether the line may
// pass and, if so, how many lines of msg were dropped since the last.
func (s *state) allow(msg string) (suppressed int, ok bool) {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.msgs[msg]
	if b == nil {
		if len(s.msgs) >= MaxMessages {
			s.forgetOldestLocked()
		}
		b = &bucket{tokens: s.opts.Burst, refilled: now}
		s.msgs[msg] = b
	}
	b.used = now
	if n := int(now.Sub(b.refilled) / s.opts.Interval); n > 0 {
		b.tokens = min(s.opts.Burst, b.tokens+n)
		b.refilled = b.refilled.Add(time.Duration(n) * s.opts.Interval)
	}
	if b.tokens == 0 {
		b.suppressed++
		return 0, false
	}
	b.tokens--
	suppressed, b.suppressed = b.suppressed, 0
	return suppressed, true
}

// forgetOldestLocked drops the least recently used bucket. s.mu must be
// held. It scans the buckets, which are at most MaxMessages; it runs only
// when a new message arrives with the table full.
func (s *state) forgetOldestLocked() {
	var oldest string
	var at time.Time
	for m, b := range s.msgs {
		if oldest == "" || b.used.Before(at) {
			oldest, at = m, b.used
		}
	}
	delete(s.msgs, oldest)
}
