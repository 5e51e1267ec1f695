//go:build linux

package uring

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// subQueue is the submission side. The kernel reads tail and the SQEs
// below it, and writes head as it consumes them; this side writes tail.
//
// Ordering: an SQE is filled with plain stores, then tail is published
// with atomic.StoreUint32. Go's atomics are sequentially consistent, so
// the SQE's bytes are visible to the kernel before the tail that covers
// them (the release the kernel's acquire of tail pairs with), and the
// compiler may not move the SQE stores below it. head is read with
// atomic.LoadUint32 (acquire) so that an entry the kernel has consumed
// is reused only after the kernel is done reading it.
type subQueue struct {
	head    *uint32 // kernel-owned: first entry not yet consumed
	tail    *uint32 // ours: published end of the queue
	flags   *uint32 // kernel-owned: sqFlag…
	dropped *uint32 // kernel-owned: invalid entries skipped
	mask    uint32
	sqes    []SQE
	local   uint32 // end of the entries handed out by GetSQE, published by flush
}

func (q *subQueue) init(ring, sqeMem []byte, off *sqRingOffsets) {
	q.head = at[uint32](ring, off.head)
	q.tail = at[uint32](ring, off.tail)
	q.flags = at[uint32](ring, off.flags)
	q.dropped = at[uint32](ring, off.dropped)
	q.mask = *at[uint32](ring, off.ringMask)
	n := *at[uint32](ring, off.ringEntries)
	q.sqes = unsafe.Slice((*SQE)(unsafe.Pointer(unsafe.SliceData(sqeMem))), n)
	// The index array maps queue slots to SQEs. Entries are handed out in
	// order, so slot i always names SQE i: fill it once.
	array := unsafe.Slice(at[uint32](ring, off.array), n)
	for i := range array {
		array[i] = uint32(i)
	}
	q.local = *q.tail
}

// GetSQE returns the next free submission entry, or nil when the queue is
// full (submit, then try again). The entry's old contents are undefined:
// one of the Prep methods fills all of it. It is not submitted until the
// next Submit or SubmitAndWait; an entry taken must be prepared before
// then (PrepNop if it is not needed after all).
func (r *Ring) GetSQE() *SQE {
	q := &r.sq
	if q.local-atomic.LoadUint32(q.head) >= uint32(len(q.sqes)) {
		return nil
	}
	s := &q.sqes[q.local&q.mask]
	q.local++
	return s
}

// SQSpace returns how many entries GetSQE can still hand out.
func (r *Ring) SQSpace() int {
	return len(r.sq.sqes) - int(r.sq.local-atomic.LoadUint32(r.sq.head))
}

// flush publishes the entries handed out so far and returns how many the
// kernel has not consumed yet.
func (q *subQueue) flush() uint32 {
	atomic.StoreUint32(q.tail, q.local)
	return q.local - atomic.LoadUint32(q.head)
}

// Submit hands the prepared entries to the kernel with one io_uring_enter
// and returns how many it consumed. It does not wait for completions;
// with Options.SingleIssuer it does not post them either (see
// SubmitAndWait and Wait). With nothing prepared it makes no system call.
func (r *Ring) Submit() (int, error) {
	n := r.sq.flush()
	if n == 0 {
		return 0, nil
	}
	return r.enter(n, 0, 0)
}

// SubmitAndWait submits the prepared entries and blocks the thread (not
// only the goroutine: prefer Wait in a loop) until at least n completions
// are ready to reap; n == 0 only posts the completions that are waiting
// (with Options.SingleIssuer, those the kernel deferred) without
// blocking. It returns how many entries the kernel consumed.
func (r *Ring) SubmitAndWait(n uint32) (int, error) {
	return r.enter(r.sq.flush(), n, enterGetEvents)
}

// getEventsArg is struct io_uring_getevents_arg, for IORING_ENTER_EXT_ARG.
type getEventsArg struct {
	sigmask   uint64
	sigmaskSz uint32
	minWait   uint32
	ts        uint64 // *unix.Timespec
}

// SubmitAndRun submits the prepared entries and has the kernel post
// every completion it deferred (Options.SingleIssuer), without waiting
// for more. SubmitAndWait(0) is not enough before parking: the kernel
// runs a few dozen deferred items per call and keeps the rest without
// signalling Wait's eventfd again (it signals only when its list of
// deferred work goes from empty to not empty), so a loop that parked
// after it could wait for the next new work to hear of the rest. It
// returns how many entries the kernel consumed.
func (r *Ring) SubmitAndRun() (int, error) {
	return r.enterRun(r.sq.flush())
}

// enterRun calls io_uring_enter with GETEVENTS, asking for as many
// completions as the queue holds but with a zero timeout: the kernel
// runs deferred work until none is left or the queue could be full, and
// returns at once (ETIME when fewer completions came).
func (r *Ring) enterRun(toSubmit uint32) (int, error) {
	var ts unix.Timespec
	arg := getEventsArg{ts: uint64(uintptr(unsafe.Pointer(&ts)))}
	for {
		n, _, errno := unix.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit), uintptr(len(r.cq.cqes)),
			enterGetEvents|enterExtArg, uintptr(unsafe.Pointer(&arg)), unsafe.Sizeof(arg))
		runtime.KeepAlive(&ts)
		switch errno {
		case 0:
			return int(n), nil
		case unix.ETIME:
			return int(toSubmit), nil // the submission went through before the wait timed out
		case unix.EINTR:
			continue
		case unix.EEXIST:
			return 0, ErrNotIssuer
		}
		return 0, fmt.Errorf("uring: io_uring_enter: %w", errno)
	}
}
