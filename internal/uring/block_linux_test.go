//go:build linux

package uring_test

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/uring"
)

func newBlockRing(t *testing.T, opts uring.Options) *uring.Ring {
	t.Helper()
	r := newRing(t, 8, opts)
	if err := r.PrepareBlock(); err != nil {
		t.Fatal(err)
	}
	return r
}

// skipWakes drops the completions Wake posted, returning the others.
func skipWakes(r *uring.Ring) []uring.CQE {
	var out []uring.CQE
	for _, c := range r.Completions() {
		if c.UserData != uring.WakeUserData {
			out = append(out, c)
		}
	}
	r.CQAdvance(r.CQReady())
	return out
}

// TestBlockUntilCompletion: Block submits what is prepared and returns
// when another goroutine's write completes the recv.
func TestBlockUntilCompletion(t *testing.T) {
	eachMode(t, func(t *testing.T, opts uring.Options) {
		r := newBlockRing(t, opts)
		a, b := pair(t)
		in := heap(64)
		sqe(t, r).PrepRecv(b, in, 0, 1)

		const delay = 50 * time.Millisecond
		written := writeLater(a, []byte("wake"), delay)
		start := time.Now()
		var got []uring.CQE
		for len(got) == 0 && time.Since(start) < 5*time.Second {
			if _, err := r.Block(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			got = skipWakes(r)
		}
		waited := time.Since(start)
		written()
		if len(got) != 1 || got[0].UserData != 1 || got[0].Res != 4 || string(in[:4]) != "wake" {
			t.Fatalf("completions %+v after %v, data %q", got, waited, in[:4])
		}
		if waited < delay/2 {
			t.Fatalf("Block returned after %v, before the write", waited)
		}
		runtime.KeepAlive(in)
	})
}

func TestBlockDeadline(t *testing.T) {
	eachMode(t, func(t *testing.T, opts uring.Options) {
		r := newBlockRing(t, opts)
		if _, err := r.Submit(); err != nil { // the wake poll
			t.Fatal(err)
		}
		start := time.Now()
		n, err := r.Block(time.Now().Add(30 * time.Millisecond))
		if n != 0 || err != nil {
			t.Fatalf("Block with nothing pending = %d, %v", n, err)
		}
		if d := time.Since(start); d < 20*time.Millisecond || d > 2*time.Second {
			t.Fatalf("Block returned after %v; want about 30ms", d)
		}
	})
}

// TestWakeEndsBlock: Wake from another goroutine ends a Block, and a
// Wake before Block makes it return at once; either way nothing but
// Wake's own completions is posted.
func TestWakeEndsBlock(t *testing.T) {
	eachMode(t, func(t *testing.T, opts uring.Options) {
		r := newBlockRing(t, opts)
		if err := r.Wake(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := r.Block(time.Now().Add(5 * time.Second)); err != nil || time.Since(start) > time.Second {
			t.Fatalf("Block after Wake: %v after %v", err, time.Since(start))
		}
		if got := skipWakes(r); len(got) != 0 {
			t.Fatalf("completions %+v", got)
		}

		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(50 * time.Millisecond)
			r.Wake()
		}()
		start = time.Now()
		for i := 0; i < 3 && time.Since(start) < 40*time.Millisecond; i++ {
			if _, err := r.Block(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			skipWakes(r)
		}
		waited := time.Since(start)
		wg.Wait()
		if waited < 25*time.Millisecond || waited > 2*time.Second {
			t.Fatalf("Block returned after %v; want about 50ms (Wake)", waited)
		}
	})
}
