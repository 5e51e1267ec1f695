//go:build linux

package netpoll

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Events is a set of readiness conditions, as epoll reports them.
type Events uint32

// The conditions a Poller reports. Readable, Writable and PeerHangUp are
// also what Add asks for.
const (
	Readable   Events = unix.EPOLLIN
	Writable   Events = unix.EPOLLOUT
	PeerHangUp Events = unix.EPOLLRDHUP // the peer shut down its side (FIN)
	HangUp     Events = unix.EPOLLHUP   // both sides are shut down; always reported
	Error      Events = unix.EPOLLERR   // an error is pending on the socket; always reported
)

// Event is one ready file descriptor. Tag is the value given to Add, so a
// caller can tell a descriptor from an earlier one with the same number.
type Event struct {
	Events Events
	FD     int32
	Tag    uint32
}

// wakeFD marks the Poller's own eventfd in the events it returns; Wait
// never reports it.
const wakeFD = -1

// Poller is one epoll instance with an eventfd that Wake signals. Wait
// must be called from one goroutine at a time; Add, Wake and Close may be
// called from any goroutine, but Close only once, after the last Wait.
//
// A Wait that must block does not block its thread in epoll_wait: the
// epoll descriptor is itself registered with Go's runtime poller, which
// parks the waiting goroutine until the instance has events. So an idle
// loop holds neither a thread nor a P, and the runtime need not take the
// P back from a thread stuck in a system call each time the loop sleeps.
type Poller struct {
	epfd   int
	wakefd int
	file   *os.File          // epfd, as Go's runtime poller watches it; closing it closes epfd
	rc     syscall.RawConn   // file's raw access, for parking in Wait
	raw    []unix.EpollEvent // scratch for Wait, owned by its caller
}

// New creates a Poller. Its descriptors are close-on-exec.
func New() (*Poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("netpoll: epoll_create1: %w", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("netpoll: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: wakeFD}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(wakefd)
		unix.Close(epfd)
		return nil, fmt.Errorf("netpoll: watch eventfd: %w", err)
	}
	// A non-blocking descriptor given to os.NewFile joins the runtime
	// poller: an epoll instance is readable while it has events.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(wakefd)
		unix.Close(epfd)
		return nil, fmt.Errorf("netpoll: epoll non-blocking: %w", err)
	}
	file := os.NewFile(uintptr(epfd), "epoll")
	rc, err := file.SyscallConn()
	if err != nil {
		unix.Close(wakefd)
		file.Close()
		return nil, fmt.Errorf("netpoll: epoll raw conn: %w", err)
	}
	return &Poller{epfd: epfd, wakefd: wakefd, file: file, rc: rc}, nil
}

// Add watches fd, edge-triggered, for Readable, Writable and PeerHangUp.
// Every event for fd carries tag. An fd leaves the Poller when it is
// closed (it must be the only descriptor of its socket, see Dup).
func (p *Poller) Add(fd int, tag uint32) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(fd), Pad: int32(tag)}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return fmt.Errorf("netpoll: epoll_ctl add %d: %w", fd, err)
	}
	return nil
}

// Wait blocks until at least one watched descriptor is ready, Wake is
// called, or timeoutMs milliseconds pass (negative: no limit; 0: do not
// block), and fills events. It returns how many events it filled and
// whether Wake was called since the last Wait. EINTR is not an error: it
// returns 0 events.
func (p *Poller) Wait(events []Event, timeoutMs int) (n int, woken bool, err error) {
	if cap(p.raw) < len(events) {
		p.raw = make([]unix.EpollEvent, len(events))
	}
	raw := p.raw[:len(events)]
	var got int
	if timeoutMs == 0 {
		got, err = unix.EpollWait(p.epfd, raw, 0)
	} else {
		got, err = p.park(raw, timeoutMs)
	}
	if err != nil {
		if errors.Is(err, unix.EINTR) {
			return 0, false, nil
		}
		return 0, false, fmt.Errorf("netpoll: epoll_wait: %w", err)
	}
	for _, ev := range raw[:got] {
		if ev.Fd == wakeFD {
			woken = true
			var b [8]byte
			unix.Read(p.wakefd, b[:]) // resets the counter; EAGAIN when raced
			continue
		}
		events[n] = Event{Events: Events(ev.Events), FD: ev.Fd, Tag: uint32(ev.Pad)}
		n++
	}
	return n, woken, nil
}

// park polls the epoll instance without blocking and, while it has no
// events, parks the goroutine in the runtime poller until it has some or
// timeoutMs milliseconds pass (negative: no limit). It returns 0 events
// when the time is up.
func (p *Poller) park(raw []unix.EpollEvent, timeoutMs int) (got int, err error) {
	var deadline time.Time
	if timeoutMs > 0 {
		deadline = time.Now().Add(time.Duration(timeoutMs) * time.Millisecond)
	}
	if err := p.file.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	rerr := p.rc.Read(func(fd uintptr) bool {
		got, err = unix.EpollWait(int(fd), raw, 0)
		return got != 0 || err != nil && !errors.Is(err, unix.EINTR)
	})
	if rerr != nil && !errors.Is(rerr, os.ErrDeadlineExceeded) {
		return 0, rerr
	}
	return got, err
}

// Wake makes the current or next Wait return with woken set. It is safe
// to call from any goroutine, but not after Close.
func (p *Poller) Wake() error {
	one := uint64(1)
	_, err := unix.Write(p.wakefd, (*[8]byte)(unsafe.Pointer(&one))[:])
	if err != nil && !errors.Is(err, unix.EAGAIN) { // EAGAIN: the counter is full, a wake is pending anyway
		return fmt.Errorf("netpoll: wake: %w", err)
	}
	return nil
}

// Close releases the epoll instance and the eventfd.
func (p *Poller) Close() error {
	err1 := unix.Close(p.wakefd)
	err2 := p.file.Close()
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("netpoll: close: %w", err)
	}
	return nil
}
