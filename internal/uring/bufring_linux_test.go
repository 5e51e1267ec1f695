//go:build linux

package uring_test

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wsgate/wsgate/internal/uring"
)

// TestMultishotRecv: one armed recv receives message after message into
// provided buffers, each completion naming its buffer and saying it stays
// armed; recycled buffers serve later messages; when the group runs dry
// the recv ends with -ENOBUFS and is armed again.
func TestMultishotRecv(t *testing.T) {
	t.Parallel()
	r := newRing(t, 8, uring.Options{})
	a, b := pair(t)
	const nbuf = 4
	br, err := r.NewBufRing(7, nbuf, 64)
	if err != nil {
		t.Fatal(err)
	}
	sqe(t, r).PrepRecvMultishot(b, br.Group(), 1)
	submit(t, r, 1)

	// One message at a time, so the kernel does not join them; every
	// buffer is recycled, so 3*nbuf messages pass through 4 buffers.
	seen := map[uint16]bool{}
	for i := range 3 * nbuf {
		msg := fmt.Sprintf("message %d", i)
		if _, err := unix.Write(a, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		c := reap(t, r, 1)[0]
		if c.UserData != 1 || !c.More() || !c.HasBuffer() || int(c.Res) != len(msg) {
			t.Fatalf("message %d: completion %+v, want user data 1, More, a buffer and Res %d", i, c, len(msg))
		}
		if got := string(br.Buffer(c.BufferID(), int(c.Res))); got != msg {
			t.Fatalf("buffer %d holds %q, want %q", c.BufferID(), got, msg)
		}
		seen[c.BufferID()] = true
		br.Recycle(c.BufferID())
	}
	if len(seen) != nbuf {
		t.Fatalf("buffers used: %v, want all %d", seen, nbuf)
	}

	// Without recycling, nbuf messages take every buffer; the next one
	// ends the recv.
	var held []uint16
	for i := range nbuf + 1 {
		if _, err := unix.Write(a, []byte("x")); err != nil {
			t.Fatal(err)
		}
		c := reap(t, r, 1)[0]
		if i < nbuf {
			if !c.More() || !c.HasBuffer() || c.Res != 1 {
				t.Fatalf("message %d: %+v", i, c)
			}
			held = append(held, c.BufferID())
			continue
		}
		if c.More() || c.Res != -int32(unix.ENOBUFS) {
			t.Fatalf("with no buffer left: %+v, want Res -ENOBUFS and no More", c)
		}
	}
	for _, id := range held {
		br.Recycle(id)
	}
	// Armed again, it gets the byte that waited in the socket.
	sqe(t, r).PrepRecvMultishot(b, br.Group(), 2)
	submit(t, r, 1)
	c := reap(t, r, 1)[0]
	if c.UserData != 2 || !c.More() || c.Res != 1 || string(br.Buffer(c.BufferID(), 1)) != "x" {
		t.Fatalf("re-armed recv: %+v", c)
	}
	br.Recycle(c.BufferID())

	// The peer's shutdown ends it with Res 0.
	unix.Shutdown(a, unix.SHUT_WR)
	if c := reap(t, r, 1)[0]; c.UserData != 2 || c.More() || c.Res != 0 {
		t.Fatalf("at the end of the stream: %+v, want Res 0 and no More", c)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNewBufRingRejectsBadSizes(t *testing.T) {
	t.Parallel()
	r := newRing(t, 4, uring.Options{})
	for _, c := range []struct{ n, size int }{{0, 64}, {3, 64}, {1 << 16, 64}, {4, 0}} {
		if _, err := r.NewBufRing(1, c.n, c.size); err == nil {
			t.Errorf("NewBufRing(%d buffers of %d bytes) succeeded", c.n, c.size)
		}
	}
}

// TestCloseCancelsInFlight: Close ends a pending recv and an armed
// multishot recv before it frees their memory; data sent afterwards lands
// nowhere.
func TestCloseCancelsInFlight(t *testing.T) {
	t.Parallel()
	r, err := uring.Setup(8, uring.Options{})
	if errors.Is(err, uring.ErrUnsupported) {
		t.Skipf("skipped: the kernel refuses io_uring: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	a1, b1 := pair(t)
	a2, b2 := pair(t)
	in := heap(64)
	if _, err := r.NewBufRing(3, 4, 64); err != nil {
		t.Fatal(err)
	}
	sqe(t, r).PrepRecv(b1, in, 0, 1)
	sqe(t, r).PrepRecvMultishot(b2, 3, 2)
	submit(t, r, 2)
	start := time.Now()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Close took %v", d)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	unix.Write(a1, []byte("late"))
	unix.Write(a2, []byte("late"))
	time.Sleep(20 * time.Millisecond)
	if !bytes.Equal(in, make([]byte, 64)) {
		t.Fatalf("the recv wrote %q after Close", in)
	}
	// The bytes wait in the sockets, unread.
	for _, fd := range []int{b1, b2} {
		buf := make([]byte, 8)
		if n, err := unix.Read(fd, buf); string(buf[:max(n, 0)]) != "late" {
			t.Fatalf("socket %d after Close: read %q, %v", fd, buf[:max(n, 0)], err)
		}
	}
	runtime.KeepAlive(in)
}
