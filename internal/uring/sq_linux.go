//go:build linux

package uring

import (
	"sync/atomic"
	"unsafe"
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
// and returns how many it consumed. It does not wait for completions
// (see SubmitAndWait and Wait). With nothing prepared it makes no system
// call.
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
// (this thread's task work, the kernel's overflow list) without
// blocking. It returns how many entries the kernel consumed.
func (r *Ring) SubmitAndWait(n uint32) (int, error) {
	return r.enter(r.sq.flush(), n, enterGetEvents)
}
