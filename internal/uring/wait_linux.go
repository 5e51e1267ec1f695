//go:build linux

package uring

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// waiter is the eventfd a Ring registers (IORING_REGISTER_EVENTFD) so
// that Go's runtime poller can watch it: the kernel signals it when it
// posts completions.
type waiter struct {
	efd  int
	file *os.File        // efd, as Go's runtime poller watches it; closing it closes efd
	rc   syscall.RawConn // file's raw access, for parking in Wait
}

func (r *Ring) waiterFor() (*waiter, error) {
	if r.waiter != nil {
		return r.waiter, nil
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("uring: eventfd: %w", err)
	}
	fd32 := int32(efd)
	if err := r.register(registerEventfd, unsafe.Pointer(&fd32), 1); err != nil {
		unix.Close(efd)
		return nil, fmt.Errorf("uring: register eventfd: %w", err)
	}
	file := os.NewFile(uintptr(efd), "uring-eventfd")
	rc, err := file.SyscallConn()
	if err != nil {
		r.register(unregisterEventfd, nil, 0)
		file.Close()
		return nil, fmt.Errorf("uring: eventfd raw conn: %w", err)
	}
	r.waiter = &waiter{efd: efd, file: file, rc: rc}
	r.wakeFD.Store(int64(efd))
	return r.waiter, nil
}

// drain resets the eventfd's counter; EAGAIN when it was zero.
func (w *waiter) drain() {
	var b [8]byte
	unix.Read(w.efd, b[:])
}

func (w *waiter) close() error {
	return w.file.Close() // the ring's Close follows, which drops the registration
}

// Wait returns how many completions are ready to reap, parking the
// goroutine until there is at least one or deadline passes (zero: no
// limit); it returns 0 and a nil error at the deadline. A parked Wait
// holds no P and no thread: Go's runtime poller watches an eventfd the
// Ring registers on first use, as netpoll's Poller watches its epoll
// descriptor.
func (r *Ring) Wait(deadline time.Time) (int, error) {
	if n := r.CQReady(); n != 0 {
		return int(n), nil
	}
	w, err := r.waiterFor()
	if err != nil {
		return 0, err
	}
	if r.woken.Swap(false) {
		return 0, nil
	}
	if err := w.file.SetReadDeadline(deadline); err != nil {
		return 0, fmt.Errorf("uring: wait: %w", err)
	}
	var enterErr error
	rerr := w.rc.Read(func(uintptr) bool {
		if r.CQReady() != 0 || r.woken.Swap(false) {
			return true
		}
		// Reset the counter before looking again, so a completion after
		// this look signals the eventfd anew and the park returns.
		w.drain()
		if atomic.LoadUint32(r.sq.flags)&(sqFlagTaskrun|sqFlagCQOverflow) != 0 {
			if _, enterErr = r.enter(0, 0, enterGetEvents); enterErr != nil {
				return true
			}
		}
		return r.CQReady() != 0 || r.woken.Swap(false)
	})
	if enterErr != nil {
		return 0, enterErr
	}
	if rerr != nil && !errors.Is(rerr, os.ErrDeadlineExceeded) {
		return 0, fmt.Errorf("uring: wait: %w", rerr)
	}
	return int(r.CQReady()), nil
}

// Wake makes the Wait in progress return, or the next Wait return at
// once, with whatever completions are ready (perhaps none). Unlike the
// Ring's other methods it is safe to call from any goroutine, as long as
// Close has not started: the caller orders the two (an event loop's
// wake-ups and its exit take one lock).
func (r *Ring) Wake() error {
	r.woken.Store(true)
	fd := r.wakeFD.Load()
	if fd < 0 {
		return nil // no Wait has run yet: the next one sees woken
	}
	one := [8]byte{1}
	if _, err := unix.Write(int(fd), one[:]); err != nil && err != unix.EAGAIN {
		return fmt.Errorf("uring: wake: %w", err)
	}
	return nil
}

// PrepareWait sets up now what Wait would set up on its first call (an
// eventfd registered with the ring), so that the ring's descriptors are
// all open from here on: a caller that counts its descriptors sees them
// steady.
func (r *Ring) PrepareWait() error {
	_, err := r.waiterFor()
	return err
}
