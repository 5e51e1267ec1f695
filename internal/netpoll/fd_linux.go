//go:build linux

package netpoll

import (
	"errors"
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrAgain is returned by Read, Write and Writev when the socket cannot
// take or give a byte without blocking. It is unix.EAGAIN, so errors.Is
// works with either.
var ErrAgain error = unix.EAGAIN

// MaxIovecs is the most buffers one Writev call passes to the kernel;
// Writev ignores the rest, and the caller writes them with the next call.
const MaxIovecs = 64

// Dup duplicates the socket behind rc as a new close-on-exec descriptor
// (F_DUPFD_CLOEXEC) and returns it. The copy shares the original's file
// status flags, so it is non-blocking like every socket Go's net package
// opens. The caller then closes the original net.Conn: Go's poller stops
// watching it, and no FIN is sent while the copy is open.
func Dup(rc syscall.RawConn) (int, error) {
	fd := -1
	var dupErr error
	err := rc.Control(func(s uintptr) {
		fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	})
	if err == nil {
		err = dupErr
	}
	if err != nil {
		return -1, fmt.Errorf("netpoll: dup socket: %w", err)
	}
	return fd, nil
}

// Read, Write and Writev make their system calls without telling Go's
// scheduler (RawSyscall): on a non-blocking socket they never sleep, so
// the goroutine keeps its P instead of the runtime preparing to hand the
// P to another thread around every call, and taking it back when a loop
// makes many calls in a row.

// Read reads into b from fd. It returns 0 and a nil error at the end of
// the stream, and ErrAgain when nothing is there to read. EINTR is
// retried. fd must be non-blocking.
func Read(fd int, b []byte) (int, error) {
	return rawIO(unix.SYS_READ, fd, unsafe.Pointer(unsafe.SliceData(b)), len(b))
}

// rawIO makes the read or write system call trap on fd with the buffer
// p of n bytes, retrying EINTR; it returns 0 bytes with an error.
func rawIO(trap uintptr, fd int, p unsafe.Pointer, n int) (int, error) {
	for {
		r, _, errno := unix.RawSyscall(trap, uintptr(fd), uintptr(p), uintptr(n))
		switch errno {
		case 0:
			return int(r), nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, ErrAgain
		}
		return 0, errno
	}
}

// Write writes b to fd without blocking and returns how many bytes the
// kernel took; with n < len(b) the error says why (ErrAgain: the socket
// buffer is full). EINTR is retried. fd must be non-blocking.
func Write(fd int, b []byte) (int, error) {
	return rawIO(unix.SYS_WRITE, fd, unsafe.Pointer(unsafe.SliceData(b)), len(b))
}

// Writev writes the first MaxIovecs buffers of bufs to fd with one
// writev(2) call (write(2) when there is one non-empty buffer), without
// blocking, and returns how many bytes the kernel took. EINTR is retried. It does not allocate. fd must be non-blocking.
func Writev(fd int, bufs [][]byte) (int, error) {
	var iov [MaxIovecs]unix.Iovec
	k := 0
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		if k == len(iov) {
			break
		}
		iov[k].Base = &b[0]
		iov[k].SetLen(len(b))
		k++
	}
	if k == 0 {
		return 0, nil
	}
	if k == 1 { // write(2) costs less than a writev of one buffer
		return rawIO(unix.SYS_WRITE, fd, unsafe.Pointer(iov[0].Base), int(iov[0].Len))
	}
	return rawIO(unix.SYS_WRITEV, fd, unsafe.Pointer(&iov[0]), k)
}

// ShutdownWrite sends a FIN: the peer reads the end of the stream, and
// fd can still read what the peer sends.
func ShutdownWrite(fd int) error {
	return unix.Shutdown(fd, unix.SHUT_WR)
}

// Close closes fd. It is not retried on EINTR: on Linux the descriptor is
// released even then.
func Close(fd int) error {
	return unix.Close(fd)
}

// SetSendBuffer sets fd's SO_SNDBUF in bytes (the kernel doubles it). For
// tests that need partial writes.
func SetSendBuffer(fd, bytes int) error {
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, bytes)
}

// SetLingerZero makes the next Close of fd reset the connection (RST)
// and discard what the peer has not read, instead of sending FIN after
// it.
func SetLingerZero(fd int) error {
	return unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
}

// IsAgain reports whether err means "try again when the socket is ready".
func IsAgain(err error) bool {
	return errors.Is(err, unix.EAGAIN)
}
