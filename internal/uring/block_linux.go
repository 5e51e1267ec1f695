//go:build linux

package uring

import (
	"errors"
	"fmt"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// WakeUserData is the user data of the completions Wake posts in a ring
// set up for Block (PrepareBlock): they carry nothing and are to be
// skipped. When one comes without More, the caller calls RearmWake.
const WakeUserData = ^uint64(0)

// blocker is what Block needs: an eventfd that Wake writes and that a
// multishot poll in the ring watches, so that a write posts a completion
// and ends an io_uring_enter waiting for one. It is not the eventfd Wait
// registers: the kernel signals that one itself, which would trigger the
// poll for every completion.
type blocker struct {
	efd int
}

// PrepareBlock readies the ring for Block and has Wake end a Block: it
// prepares the poll that watches Wake's eventfd, which leaves with the
// next submission. Use Block or Wait on a ring, not both. Like Block it
// is for a ring set up with Options.SingleIssuer, on its issuer's
// thread.
func (r *Ring) PrepareBlock() error {
	if r.waiter != nil || r.blocker != nil {
		return errors.New("uring: prepare block: the ring has a waiter already")
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return fmt.Errorf("uring: eventfd: %w", err)
	}
	r.blocker = &blocker{efd: efd}
	if err := r.RearmWake(); err != nil {
		return err
	}
	r.wakeFD.Store(int64(efd))
	return nil
}

// RearmWake prepares the poll that watches Wake's eventfd again, after
// its completion came without More (the kernel ended it).
func (r *Ring) RearmWake() error {
	s := r.GetSQE()
	if s == nil {
		if _, err := r.Submit(); err != nil {
			return err
		}
		if s = r.GetSQE(); s == nil {
			return errors.New("uring: rearm wake: submission queue full")
		}
	}
	s.PrepPollAdd(r.blocker.efd, unix.POLLIN, true, WakeUserData)
	return nil
}

// Block submits what is prepared and blocks the calling thread in
// io_uring_enter until at least one completion is ready, Wake is called,
// or deadline passes (zero: no limit). It returns how many completions
// are ready, perhaps none. With Options.SingleIssuer the kernel runs
// the work it deferred while it waits, and wakes the thread itself when
// a completion is posted: no eventfd and no trip through Go's runtime
// poller, whose wake-up of a goroutine locked to its thread can come
// late. The thread keeps its P for a while (sysmon takes it back from a
// long system call), so Block suits a goroutine that owns its thread.
// PrepareBlock must have run.
func (r *Ring) Block(deadline time.Time) (int, error) {
	if n := r.CQReady(); n != 0 {
		return int(n), nil
	}
	if r.woken.Swap(false) {
		r.drainWake()
		return 0, nil
	}
	var ts unix.Timespec
	arg := getEventsArg{}
	if !deadline.IsZero() {
		ts = unix.NsecToTimespec(max(int64(time.Until(deadline)), 0))
		arg.ts = uint64(uintptr(unsafe.Pointer(&ts)))
	}
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(r.sq.flush()), 1,
		enterGetEvents|enterExtArg, uintptr(unsafe.Pointer(&arg)), unsafe.Sizeof(arg))
	runtime.KeepAlive(&ts)
	switch errno {
	case 0, unix.ETIME, unix.EINTR: // a completion, the deadline, a signal: the caller looks
	case unix.EEXIST:
		return 0, ErrNotIssuer
	default:
		return 0, fmt.Errorf("uring: block: io_uring_enter: %w", errno)
	}
	if r.woken.Swap(false) {
		r.drainWake()
	}
	return int(r.CQReady()), nil
}

// drainWake resets Wake's eventfd counter.
func (r *Ring) drainWake() {
	var b [8]byte
	unix.Read(r.blocker.efd, b[:])
}
