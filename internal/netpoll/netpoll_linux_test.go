//go:build linux

package netpoll_test

import (
	"bytes"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wsgate/wsgate/internal/netpoll"
)

// pair returns a connected non-blocking socket pair; both ends close when
// the test ends.
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

func newPoller(t *testing.T) *netpoll.Poller {
	t.Helper()
	p, err := netpoll.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestPollerReportsReadableWithTag(t *testing.T) {
	t.Parallel()
	p := newPoller(t)
	a, b := pair(t)
	if err := p.Add(a, 42); err != nil {
		t.Fatal(err)
	}
	events := make([]netpoll.Event, 8)
	// Edge-triggered: the first wait reports a writable socket.
	n, _, err := p.Wait(events, 1000)
	if err != nil || n != 1 || events[0].Events&netpoll.Writable == 0 || events[0].Tag != 42 || int(events[0].FD) != a {
		t.Fatalf("first wait: n=%d err=%v ev=%+v", n, err, events[0])
	}
	if n, _, _ := p.Wait(events, 0); n != 0 {
		t.Fatalf("no new edge, yet %d events", n)
	}
	netpoll.Write(b, []byte("hi"))
	n, _, err = p.Wait(events, 1000)
	if err != nil || n != 1 || events[0].Events&netpoll.Readable == 0 {
		t.Fatalf("after write: n=%d err=%v ev=%+v", n, err, events[0])
	}
	buf := make([]byte, 8)
	if k, err := netpoll.Read(a, buf); k != 2 || err != nil || string(buf[:k]) != "hi" {
		t.Fatalf("read: %d %v %q", k, err, buf[:k])
	}
	if _, err := netpoll.Read(a, buf); !netpoll.IsAgain(err) {
		t.Fatalf("read of an empty socket: %v, want EAGAIN", err)
	}
	netpoll.ShutdownWrite(b)
	if n, _, _ := p.Wait(events, 1000); n != 1 || events[0].Events&netpoll.PeerHangUp == 0 {
		t.Fatalf("after the peer's shutdown: %d events %+v", n, events[0])
	}
	if k, err := netpoll.Read(a, buf); k != 0 || err != nil {
		t.Fatalf("read at the end of the stream: %d %v, want 0 nil", k, err)
	}
}

func TestWakeInterruptsWait(t *testing.T) {
	t.Parallel()
	p := newPoller(t)
	events := make([]netpoll.Event, 8)
	go func() {
		time.Sleep(20 * time.Millisecond)
		p.Wake()
	}()
	start := time.Now()
	n, woken, err := p.Wait(events, 5000)
	if err != nil || n != 0 || !woken {
		t.Fatalf("Wait = %d, %v, %v; want 0, woken", n, woken, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Wake took %v", d)
	}
	// The wake was consumed: the next Wait times out.
	if n, woken, _ := p.Wait(events, 10); n != 0 || woken {
		t.Fatalf("second Wait = %d, %v; want a timeout", n, woken)
	}
}

func TestWritevPartialAndOrder(t *testing.T) {
	t.Parallel()
	a, b := pair(t)
	netpoll.SetSendBuffer(a, 4096)
	var want []byte
	var bufs [][]byte
	for i := range 100 {
		chunk := bytes.Repeat([]byte{byte(i)}, 1000+i)
		want = append(want, chunk...)
		bufs = append(bufs, chunk, nil) // empty buffers are skipped
	}
	var got []byte
	rbuf := make([]byte, 64<<10)
	rest := bufs
	for len(rest) > 0 {
		n, err := netpoll.Writev(a, rest)
		if err != nil && !netpoll.IsAgain(err) {
			t.Fatal(err)
		}
		for n > 0 {
			if n >= len(rest[0]) {
				n -= len(rest[0])
				rest = rest[1:]
				continue
			}
			rest[0] = rest[0][n:]
			n = 0
		}
		for len(rest) > 0 && len(rest[0]) == 0 {
			rest = rest[1:]
		}
		k, _ := netpoll.Read(b, rbuf)
		got = append(got, rbuf[:k]...)
	}
	for {
		k, err := netpoll.Read(b, rbuf)
		if k == 0 || err != nil {
			break
		}
		got = append(got, rbuf[:k]...)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes, want %d, equal prefix %v", len(got), len(want), bytes.HasPrefix(want, got))
	}
}

func TestDupKeepsSocketOpen(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cl, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := sc.(*net.TCPConn).SyscallConn()
	fd, err := netpoll.Dup(rc)
	if err != nil {
		t.Fatal(err)
	}
	defer netpoll.Close(fd)
	if flags, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); flags&unix.FD_CLOEXEC == 0 {
		t.Error("the copy is not close-on-exec")
	}
	if fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); fl&unix.O_NONBLOCK == 0 {
		t.Error("the copy is blocking")
	}
	sc.Close() // the copy keeps the connection: no FIN reaches the client
	if _, err := netpoll.Write(fd, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	cl.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 32)
	if n, err := cl.Read(buf); err != nil || string(buf[:n]) != "still here" {
		t.Fatalf("client read %q, %v", buf[:n], err)
	}
}
