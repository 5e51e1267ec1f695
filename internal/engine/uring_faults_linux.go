//go:build linux

package engine

import (
	"math"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/wsgate/wsgate/internal/uring"
)

// uringFaults is the test seam of the io_uring loops: tests set it on an
// Engine's loops (export_test.go) before its first connection to shrink
// the ring and its buffers, refuse the ring, or disturb completions. It
// is nil in production, where every method below does what the engine
// does without it. Read-only once the loops start.
type uringFaults struct {
	// setup replaces uring.Setup (a ring refused at start).
	setup func(entries uint32, opts uring.Options) (*uring.Ring, error)
	// Ring and buffer sizes; zero keeps the engine's.
	sqEntries, cqEntries uint32
	bufCount, bufSize    int
	// cancelRecv cancels a connection's recv after each of its data
	// completions, so that the loop must arm it again.
	cancelRecv bool
	// canceledAs replaces the result of the -ECANCELED completions that
	// end a recv (e.g. -EAGAIN); zero leaves them.
	canceledAs int32
	// maxWrite caps the bytes a write request offers (short writes);
	// zero: no cap.
	maxWrite int

	// What the loops saw, for the test to check that the fault it set
	// up happened: recvs ended by -ENOBUFS, turns that found the
	// completion queue overflowed.
	noBufs, overflows atomic.Int64
}

func (f *uringFaults) sizes() (sq, cq uint32, nbuf, size int) {
	sq, cq, nbuf, size = ringEntries, ringCompletions, recvBuffers, recvBufferSize
	if f == nil {
		return sq, cq, nbuf, size
	}
	if f.sqEntries != 0 {
		sq = f.sqEntries
	}
	if f.cqEntries != 0 {
		cq = f.cqEntries
	}
	if f.bufCount != 0 {
		nbuf = f.bufCount
	}
	if f.bufSize != 0 {
		size = f.bufSize
	}
	return sq, cq, nbuf, size
}

func (f *uringFaults) setupRing(entries uint32, opts uring.Options) (*uring.Ring, error) {
	if f != nil && f.setup != nil {
		return f.setup(entries, opts)
	}
	return uring.Setup(entries, opts)
}

// mangle disturbs cq, a completion about to be handled, as f asks.
func (f *uringFaults) mangle(u *uringIO, cq *uring.CQE) {
	if f == nil || reqKind(cq.UserData>>56) != reqRecv {
		return
	}
	if cq.Res == -int32(unix.ENOBUFS) {
		f.noBufs.Add(1)
	}
	if f.cancelRecv && cq.More() && cq.Res > 0 {
		if c := u.conn(cq.UserData); c != nil {
			u.cancel(reqRecv, c)
		}
	}
	if f.canceledAs != 0 && !cq.More() && cq.Res == -int32(unix.ECANCELED) {
		cq.Res = f.canceledAs
	}
}

// writeLimit is how many bytes a write request may offer.
func (f *uringFaults) writeLimit() int {
	if f == nil || f.maxWrite == 0 {
		return math.MaxInt
	}
	return f.maxWrite
}

// sawOverflow counts a turn that found the completion queue overflowed.
func (f *uringFaults) sawOverflow() {
	if f != nil {
		f.overflows.Add(1)
	}
}
