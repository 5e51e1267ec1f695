//go:build linux

package uring_test

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/uring"
)

// TestWaitParksUntilCompletion: the owner parks in Wait (in Go's runtime
// poller) with a recv pending, and wakes when another goroutine's write
// completes it.
func TestWaitParksUntilCompletion(t *testing.T) {
	t.Parallel()
	r := newRing(t, 8, uring.Options{})
	a, b := pair(t)
	in := heap(64)
	sqe(t, r).PrepRecv(b, in, 0, 1)
	submit(t, r, 1)

	const delay = 50 * time.Millisecond
	written := writeLater(a, []byte("wake"), delay)
	start := time.Now()
	n, err := r.Wait(time.Now().Add(5 * time.Second))
	waited := time.Since(start)
	written()
	if err != nil || n != 1 {
		t.Fatalf("Wait = %d, %v after %v; want 1", n, err, waited)
	}
	if waited < delay/2 {
		t.Fatalf("Wait returned after %v, before the write", waited)
	}
	c := r.Completions()[0]
	if c.UserData != 1 || c.Res != 4 || string(in[:4]) != "wake" {
		t.Fatalf("completion %+v, data %q", c, in[:max(c.Res, 0)])
	}
	r.CQAdvance(1)
	runtime.KeepAlive(in)
}

func TestWaitDeadline(t *testing.T) {
	t.Parallel()
	r := newRing(t, 8, uring.Options{})
	start := time.Now()
	n, err := r.Wait(time.Now().Add(30 * time.Millisecond))
	if n != 0 || err != nil {
		t.Fatalf("Wait with nothing pending = %d, %v", n, err)
	}
	if d := time.Since(start); d < 20*time.Millisecond || d > 2*time.Second {
		t.Fatalf("Wait returned after %v, want about 30ms", d)
	}
	// A completion already there returns at once, without parking.
	sqe(t, r).PrepNop(1)
	submit(t, r, 1)
	if n, err := r.Wait(time.Now().Add(5 * time.Second)); n != 1 || err != nil {
		t.Fatalf("Wait with a NOP done = %d, %v", n, err)
	}
}

// TestWakeEndsWait: Wake from another goroutine ends a parked Wait with
// no completion, and a Wake before any Wait makes the next one return at
// once.
func TestWakeEndsWait(t *testing.T) {
	t.Parallel()
	r := newRing(t, 8, uring.Options{})
	if err := r.Wake(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if n, err := r.Wait(time.Now().Add(5 * time.Second)); n != 0 || err != nil || time.Since(start) > time.Second {
		t.Fatalf("Wait after Wake = %d, %v after %v", n, err, time.Since(start))
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(30 * time.Millisecond)
		if err := r.Wake(); err != nil {
			t.Error(err)
		}
	}()
	start = time.Now()
	n, err := r.Wait(time.Now().Add(5 * time.Second))
	wg.Wait()
	if n != 0 || err != nil || time.Since(start) > 2*time.Second {
		t.Fatalf("Wait woken = %d, %v after %v", n, err, time.Since(start))
	}
}
