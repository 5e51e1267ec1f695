//go:build linux

package uring_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wsgate/wsgate/internal/uring"
)

// newRing sets up a ring closed when the test ends, and skips the test
// when the kernel refuses io_uring.
func newRing(tb testing.TB, entries uint32, opts uring.Options) *uring.Ring {
	tb.Helper()
	r, err := uring.Setup(entries, opts)
	if errors.Is(err, uring.ErrUnsupported) {
		tb.Skipf("skipped: the kernel refuses io_uring: %v", err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := r.Close(); err != nil {
			tb.Error(err)
		}
	})
	return r
}

// pair returns a connected non-blocking stream socket pair, as the
// engine's sockets are; both ends close when the test ends.
func pair(t *testing.T) (a, b int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.Close(fds[0])
		unix.Close(fds[1])
	})
	return fds[0], fds[1]
}

// heap returns n zero bytes on the heap: the kernel writes buffers after
// the Prep call returns, so they must not live on a stack that may move.
//
//go:noinline
func heap(n int) []byte { return make([]byte, n) }

// iovecs returns, on the heap, iovecs for the non-empty buffers of bufs.
//
//go:noinline
func iovecs(bufs ...[]byte) []unix.Iovec {
	iov := make([]unix.Iovec, 0, len(bufs))
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		v := unix.Iovec{Base: &b[0]}
		v.SetLen(len(b))
		iov = append(iov, v)
	}
	return iov
}

// msghdr returns, on the heap, a message header for iov.
//
//go:noinline
func msghdr(iov []unix.Iovec) *unix.Msghdr {
	msg := &unix.Msghdr{Iov: &iov[0]}
	msg.SetIovlen(len(iov))
	return msg
}

// sqe returns the next free entry or fails the test.
func sqe(t testing.TB, r *uring.Ring) *uring.SQE {
	t.Helper()
	s := r.GetSQE()
	if s == nil {
		t.Fatal("submission queue full")
	}
	return s
}

// submit submits what is prepared and checks the kernel took want.
func submit(t testing.TB, r *uring.Ring, want int) {
	t.Helper()
	if n, err := r.Submit(); err != nil || n != want {
		t.Fatalf("Submit = %d, %v; want %d", n, err, want)
	}
}

// reap waits for n completions, at most 5s, and returns copies of them.
func reap(t testing.TB, r *uring.Ring, n int) []uring.CQE {
	t.Helper()
	var got []uring.CQE
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < n {
		if _, err := r.Wait(deadline); err != nil {
			t.Fatal(err)
		}
		c := r.Completions()
		if len(c) == 0 && time.Now().After(deadline) {
			t.Fatalf("reaped %d completions of %d: %+v", len(got), n, got)
		}
		got = append(got, c...)
		r.CQAdvance(uint32(len(c)))
	}
	return got
}

// byUserData indexes completions by user data; each must appear once.
func byUserData(t testing.TB, cqes []uring.CQE) map[uint64]uring.CQE {
	t.Helper()
	m := make(map[uint64]uring.CQE, len(cqes))
	for _, c := range cqes {
		if _, dup := m[c.UserData]; dup {
			t.Fatalf("two completions for %d: %+v", c.UserData, cqes)
		}
		m[c.UserData] = c
	}
	return m
}

// writeLater writes b to fd after delay, on a goroutine of its own; the
// function it returns waits for the write.
func writeLater(fd int, b []byte, delay time.Duration) (wait func()) {
	var wg sync.WaitGroup
	wg.Go(func() {
		time.Sleep(delay)
		unix.Write(fd, b)
	})
	return wg.Wait
}
