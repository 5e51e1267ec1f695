//go:build linux

package uring_test

import (
	"bytes"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wsgate/wsgate/internal/uring"
)

func TestWriteThenRead(t *testing.T) {
	t.Parallel()
	r := newRing(t, 8, uring.Options{})
	a, b := pair(t)
	out, in := heap(5), heap(64)
	copy(out, "hello")
	// The read is submitted first: it waits for the write's bytes.
	sqe(t, r).PrepRead(b, in, 2)
	sqe(t, r).PrepWrite(a, out, 1)
	submit(t, r, 2)
	got := byUserData(t, reap(t, r, 2))
	if got[1].Res != 5 || got[2].Res != 5 || string(in[:5]) != "hello" {
		t.Fatalf("write %+v, read %+v %q", got[1], got[2], in[:max(got[2].Res, 0)])
	}
	runtime.KeepAlive(out)
	runtime.KeepAlive(in)
}

func TestSendThenRecv(t *testing.T) {
	t.Parallel()
	r := newRing(t, 8, uring.Options{})
	a, b := pair(t)
	out, in := heap(3), heap(64)
	copy(out, "abc")
	sqe(t, r).PrepSend(a, out, 0, 1)
	submit(t, r, 1)
	sqe(t, r).PrepRecv(b, in, 0, 2)
	submit(t, r, 1)
	got := byUserData(t, reap(t, r, 2))
	if got[1].Res != 3 || got[2].Res != 3 || string(in[:3]) != "abc" {
		t.Fatalf("send %+v, recv %+v", got[1], got[2])
	}
	runtime.KeepAlive(out)
	runtime.KeepAlive(in)
}

// TestWritevOneRequest: several buffers leave in one request, in order.
func TestWritevOneRequest(t *testing.T) {
	t.Parallel()
	r := newRing(t, 8, uring.Options{})
	a, b := pair(t)
	parts := [][]byte{heap(3), heap(0), heap(5), heap(1000)}
	copy(parts[0], "one")
	copy(parts[2], "three")
	for i := range parts[3] {
		parts[3][i] = byte(i)
	}
	iov := iovecs(parts...)
	want := bytes.Join(parts, nil)
	sqe(t, r).PrepWritev(a, iov, 9)
	submit(t, r, 1)
	c := reap(t, r, 1)[0]
	if c.UserData != 9 || int(c.Res) != len(want) {
		t.Fatalf("writev completion %+v, want Res %d", c, len(want))
	}
	got := make([]byte, 2*len(want))
	n, err := unix.Read(b, got)
	if err != nil || !bytes.Equal(got[:n], want) {
		t.Fatalf("peer read %d bytes, %v; want %d in order", n, err, len(want))
	}
	runtime.KeepAlive(parts)
}

// TestSendmsg: one sendmsg request gathers several buffers.
func TestSendmsg(t *testing.T) {
	t.Parallel()
	r := newRing(t, 8, uring.Options{})
	a, b := pair(t)
	head, body := heap(4), heap(6)
	copy(head, "head")
	copy(body, "-body!")
	iov := iovecs(head, body)
	msg := msghdr(iov)
	sqe(t, r).PrepSendmsg(a, msg, 0, 5)
	submit(t, r, 1)
	if c := reap(t, r, 1)[0]; c.UserData != 5 || c.Res != 10 {
		t.Fatalf("sendmsg completion %+v, want Res 10", c)
	}
	got := make([]byte, 32)
	if n, err := unix.Read(b, got); string(got[:max(n, 0)]) != "head-body!" {
		t.Fatalf("peer read %q, %v", got[:max(n, 0)], err)
	}
	runtime.KeepAlive(msg)
	runtime.KeepAlive(iov)
	runtime.KeepAlive(head)
	runtime.KeepAlive(body)
}

// TestShortWrite: a send or writev larger than the socket can take
// completes with the part that fit (Res < len), not an error; the caller
// sends the rest.
func TestShortWrite(t *testing.T) {
	const size = 1 << 20
	for _, op := range []string{"send", "writev"} {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			r := newRing(t, 8, uring.Options{})
			a, _ := pair(t)
			if err := unix.SetsockoptInt(a, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096); err != nil {
				t.Fatal(err)
			}
			out := heap(size)
			iov := iovecs(out)
			if op == "send" {
				sqe(t, r).PrepSend(a, out, 0, 1)
			} else {
				sqe(t, r).PrepWritev(a, iov, 1)
			}
			submit(t, r, 1)
			c := reap(t, r, 1)[0]
			if c.Res <= 0 || c.Res >= size {
				t.Fatalf("%s of %d bytes to a peer that does not read: Res %d, want 0 < Res < %d", op, size, c.Res, size)
			}
			runtime.KeepAlive(out)
		})
	}
}

// TestCancelPendingRecv: a recv waiting on a silent socket ends with
// -ECANCELED when cancelled.
func TestCancelPendingRecv(t *testing.T) {
	t.Parallel()
	r := newRing(t, 8, uring.Options{})
	_, b := pair(t)
	in := heap(64)
	sqe(t, r).PrepRecv(b, in, 0, 1)
	submit(t, r, 1)
	if n, err := r.Wait(time.Now().Add(20 * time.Millisecond)); n != 0 || err != nil {
		t.Fatalf("a recv on a silent socket completed: %d, %v", n, err)
	}
	sqe(t, r).PrepCancel(1, false, 2)
	submit(t, r, 1)
	got := byUserData(t, reap(t, r, 2))
	if got[1].Res != -int32(unix.ECANCELED) || got[2].Res != 0 {
		t.Fatalf("recv %+v, want Res -ECANCELED; cancel %+v, want Res 0", got[1], got[2])
	}
	sqe(t, r).PrepCancel(1, false, 3)
	submit(t, r, 1)
	if c := reap(t, r, 1)[0]; c.Res != -int32(unix.ENOENT) {
		t.Fatalf("second cancel %+v, want -ENOENT", c)
	}
	runtime.KeepAlive(in)
}

// TestPollAdd: a poll request completes with the events that are ready.
func TestPollAdd(t *testing.T) {
	t.Parallel()
	r := newRing(t, 8, uring.Options{})
	a, b := pair(t)
	sqe(t, r).PrepPollAdd(b, unix.POLLIN, false, 1)
	submit(t, r, 1)
	if _, err := unix.Write(a, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if c := reap(t, r, 1)[0]; c.Res&unix.POLLIN == 0 || c.More() {
		t.Fatalf("poll completion %+v, want POLLIN and no More", c)
	}
}
