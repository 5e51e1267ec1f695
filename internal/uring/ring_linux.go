//go:build linux

package uring

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrUnsupported is wrapped by Setup's error when the kernel refuses
// io_uring: it lacks the system call (ENOSYS), forbids it (EPERM from
// seccomp or kernel.io_uring_disabled), or is too old for the ring this
// package asks for (EINVAL). The caller falls back to epoll.
var ErrUnsupported = errors.New("uring: io_uring not supported here")

// Options configures Setup. The zero value is ready to use.
type Options struct {
	// CQEntries is the size of the completion queue, rounded up to a
	// power of two; it must be at least the submission queue's size.
	// Zero means twice the submission queue, the kernel's default.
	CQEntries uint32
}

// Ring is one io_uring instance: a submission queue, a completion queue
// and the array of submission entries, all shared with the kernel.
//
// A Ring is used by one goroutine, the loop that owns it: GetSQE,
// Submit, the completion methods, Wait, NewBufRing and Close must not be
// called concurrently. The one exception is Wake, which any goroutine
// may call until Close starts. The kernel is the only other party; the
// ring indexes it shares are read and written with sync/atomic
// (sq_linux.go, cq_linux.go).
type Ring struct {
	fd       int
	flags    uint32 // the setup flags the kernel took
	sq       subQueue
	cq       compQueue
	sqRing   []byte // mmap of the SQ ring (and of the CQ ring with featSingleMmap)
	cqRing   []byte // mmap of the CQ ring, nil with featSingleMmap
	sqeMem   []byte // mmap of the SQE array
	waiter   *waiter
	bufRings []*BufRing
	// woken is set by Wake and cleared by the Wait it ends; wakeFD is
	// the waiter's eventfd once Wait made it (-1 before), for Wake to
	// signal from another goroutine.
	woken  atomic.Bool
	wakeFD atomic.Int64
}

// Setup creates a ring whose submission queue holds entries requests
// (rounded up to a power of two, at most 32768). It asks for
// COOP_TASKRUN (with TASKRUN_FLAG and SUBMIT_ALL): the work that turns a
// socket's readiness into a completion runs on the thread that submitted
// the request, at its next entry into the kernel (a sleeping thread is
// woken for it, a running one is not interrupted). If the kernel refuses
// those (EINVAL) it asks for none; it fails wrapping ErrUnsupported when
// the kernel refuses io_uring itself. The ring's descriptor is close-on-exec.
func Setup(entries uint32, opts Options) (*Ring, error) {
	// The kernel says EINVAL for these too; caught here, they are not
	// taken for an old kernel.
	if entries == 0 || opts.CQEntries != 0 && opts.CQEntries < entries {
		return nil, fmt.Errorf("uring: setup: %d entries, %d completion entries: need 0 < entries <= completion entries", entries, opts.CQEntries)
	}
	base := uint32(setupClamp)
	if opts.CQEntries != 0 {
		base |= setupCQSize
	}
	tries := []uint32{base | setupSubmitAll | setupCoopTaskrun | setupTaskrunFlag, base}
	var p params
	var fd int
	var err error
	for _, flags := range tries {
		p = params{flags: flags, cqEntries: opts.CQEntries}
		fd, err = setup(entries, &p)
		if !errors.Is(err, unix.EINVAL) {
			break
		}
	}
	if err != nil {
		if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL) {
			return nil, fmt.Errorf("%w: io_uring_setup: %w", ErrUnsupported, err)
		}
		return nil, fmt.Errorf("uring: io_uring_setup: %w", err)
	}
	r := &Ring{fd: fd, flags: p.flags}
	r.wakeFD.Store(-1)
	if err := r.mmap(&p); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func setup(entries uint32, p *params) (int, error) {
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(p)), 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// mmap maps the rings and the SQE array the kernel described in p.
func (r *Ring) mmap(p *params) error {
	sqSize := int(p.sqOff.array + p.sqEntries*4)
	cqSize := int(p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(CQE{})))
	single := p.features&featSingleMmap != 0
	if single {
		sqSize = max(sqSize, cqSize)
	}
	var err error
	if r.sqRing, err = mapRing(r.fd, sqSize, offSQRing); err != nil {
		return err
	}
	cqMem := r.sqRing
	if !single {
		if r.cqRing, err = mapRing(r.fd, cqSize, offCQRing); err != nil {
			return err
		}
		cqMem = r.cqRing
	}
	if r.sqeMem, err = mapRing(r.fd, int(p.sqEntries)*int(unsafe.Sizeof(SQE{})), offSQEs); err != nil {
		return err
	}
	r.sq.init(r.sqRing, r.sqeMem, &p.sqOff)
	r.cq.init(cqMem, &p.cqOff)
	return nil
}

func mapRing(fd, size int, off int64) ([]byte, error) {
	b, err := unix.Mmap(fd, off, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("uring: mmap ring at %#x: %w", off, err)
	}
	return b, nil
}

// at returns a pointer to the T at byte offset off of the mapping m.
func at[T any](m []byte, off uint32) *T {
	return (*T)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(m)), off))
}

// FD returns the ring's descriptor, for logs and tests.
func (r *Ring) FD() int { return r.fd }

// Close cancels the requests in flight and waits until none is running
// (at most a second), so that their buffers, and the BufRings, are free
// when it returns; it then unregisters and unmaps the BufRings, closes
// the Wait eventfd, unmaps the rings and closes the ring's descriptor.
// Completions not reaped are dropped. Close after Close does nothing.
func (r *Ring) Close() error {
	if r.fd < 0 {
		return nil
	}
	errs := []error{r.cancelAll()}
	for _, b := range r.bufRings {
		errs = append(errs, b.release())
	}
	r.bufRings = nil
	if r.waiter != nil {
		r.wakeFD.Store(-1)
		errs = append(errs, r.waiter.close())
		r.waiter = nil
	}
	for _, m := range [][]byte{r.sqeMem, r.cqRing, r.sqRing} {
		if m != nil {
			errs = append(errs, unix.Munmap(m))
		}
	}
	r.sqeMem, r.cqRing, r.sqRing = nil, nil, nil
	if r.fd >= 0 {
		errs = append(errs, unix.Close(r.fd))
		r.fd = -1
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("uring: close: %w", err)
	}
	return nil
}

// cancelAll cancels every request in flight and waits, at most a second,
// until none is running (IORING_REGISTER_SYNC_CANCEL). A request waiting
// for a socket is cancelled at once; only one that a kernel worker is
// running can make it wait. A kernel without the call (before 6.0) says
// EINVAL: the requests are then cancelled after Close, by the kernel.
func (r *Ring) cancelAll() error {
	reg := syncCancelReg{flags: cancelAny | cancelAll, timeout: unix.Timespec{Sec: 1}}
	err := r.register(registerSyncCancel, unsafe.Pointer(&reg), 1)
	if err == nil || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EINVAL) {
		return nil
	}
	return fmt.Errorf("cancel requests in flight: %w", err)
}

// enter calls io_uring_enter. It uses RawSyscall when the call cannot
// sleep (minComplete == 0), as netpoll does for non-blocking I/O, and
// retries EINTR.
func (r *Ring) enter(toSubmit, minComplete, flags uint32) (int, error) {
	for {
		var n uintptr
		var errno syscall.Errno
		if minComplete == 0 {
			n, _, errno = unix.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit), 0, uintptr(flags), 0, 0)
		} else {
			n, _, errno = unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit), uintptr(minComplete), uintptr(flags), 0, 0)
		}
		switch errno {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue
		}
		return 0, fmt.Errorf("uring: io_uring_enter: %w", errno)
	}
}

// register calls io_uring_register.
func (r *Ring) register(op uint32, arg unsafe.Pointer, nr uint32) error {
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), uintptr(op), uintptr(arg), uintptr(nr), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
