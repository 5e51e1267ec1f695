package lograte

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a clock the test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestHandler(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	h := New(slog.NewTextHandler(&out, nil), Options{Burst: 3, Interval: time.Second, Now: c.now})
	log := slog.New(h).With("component", "backend")
	for i := range 10 {
		log.Warn("unusable backend reply", "n", i)
	}
	log.Warn("another message")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.Contains(lines[3], "another message") {
		t.Fatalf("after a burst of 10 lines of one message, the log holds:\n%s", out.String())
	}
	if h.Dropped() != 7 {
		t.Fatalf("Dropped = %d, want 7", h.Dropped())
	}
	out.Reset()
	c.add(1500 * time.Millisecond) // one token back
	log.Warn("unusable backend reply", "n", 10)
	log.Warn("unusable backend reply", "n", 11)
	got := out.String()
	if strings.Count(got, "\n") != 1 || !strings.Contains(got, "suppressed=7") || !strings.Contains(got, "component=backend") {
		t.Fatalf("after the interval: %q", got)
	}
	out.Reset()
	c.add(10 * time.Second) // the burst refills, no more
	for range 5 {
		log.Warn("unusable backend reply")
	}
	if n := strings.Count(out.String(), "\n"); n != 3 {
		t.Fatalf("%d lines after a long pause, want the burst of 3", n)
	}
}

func TestHandlerForgetsOldMessages(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	h := New(slog.NewTextHandler(&out, nil), Options{Burst: 1, Now: c.now})
	log := slog.New(h)
	for i := range MaxMessages + 10 {
		c.add(time.Millisecond)
		log.Info("message " + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('A'+i/26%26)) + string(rune('0'+i/676)))
	}
	if n := len(h.state.msgs); n > MaxMessages {
		t.Fatalf("%d messages tracked, more than %d", n, MaxMessages)
	}
}
