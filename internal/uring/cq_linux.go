//go:build linux

package uring

import (
	"sync/atomic"
	"unsafe"
)

// CQE is a completion queue entry (struct io_uring_cqe).
type CQE struct {
	// UserData is the value the request was prepared with.
	UserData uint64
	// Res is the request's result: bytes moved, or 0, or -errno.
	Res int32
	// Flags holds the IORING_CQE_F_ bits and, with HasBuffer, the
	// provided buffer's id; read them with the methods.
	Flags uint32
}

// More reports whether the request that completed stays armed and will
// complete again (a multishot recv or poll). Without it the request is
// finished, whatever Res says.
func (c *CQE) More() bool { return c.Flags&cqeFlagMore != 0 }

// HasBuffer reports whether the kernel picked a provided buffer for this
// completion; BufferID then names it.
func (c *CQE) HasBuffer() bool { return c.Flags&cqeFlagBuffer != 0 }

// BufferID is the id of the provided buffer holding this completion's
// data, valid when HasBuffer.
func (c *CQE) BufferID() uint16 { return uint16(c.Flags >> cqeBufferShift) }

// SockNonEmpty reports, for a recv, that the socket had more data left
// after this completion.
func (c *CQE) SockNonEmpty() bool { return c.Flags&cqeFlagSockNonempty != 0 }

// compQueue is the completion side. The kernel writes CQEs and then
// publishes tail; this side reads them and then publishes head.
//
// Ordering: tail is read with atomic.LoadUint32 (acquire) before the CQEs
// below it are read, so their bytes are the kernel's finished writes.
// head is stored with atomic.StoreUint32 (release) only once the caller
// is done with the entries it covers, so the kernel never overwrites an
// entry that is still being read.
type compQueue struct {
	head     *uint32 // ours: first entry not yet reaped
	tail     *uint32 // kernel-owned: end of the posted entries
	overflow *uint32 // kernel-owned: completions lost (only when the kernel could not keep them)
	mask     uint32
	cqes     []CQE
}

func (q *compQueue) init(ring []byte, off *cqRingOffsets) {
	q.head = at[uint32](ring, off.head)
	q.tail = at[uint32](ring, off.tail)
	q.overflow = at[uint32](ring, off.overflow)
	q.mask = *at[uint32](ring, off.ringMask)
	n := *at[uint32](ring, off.ringEntries)
	q.cqes = unsafe.Slice(at[CQE](ring, off.cqes), n)
}

// CQReady returns how many completions are ready to reap, without a
// system call.
func (r *Ring) CQReady() uint32 {
	return atomic.LoadUint32(r.cq.tail) - *r.cq.head
}

// Completions returns the ready completions in order, without a system
// call. The slice stops at the end of the ring's memory, so it may hold
// fewer than CQReady: after CQAdvance, call again for the rest. Its
// entries are the kernel's shared memory, borrowed until CQAdvance.
func (r *Ring) Completions() []CQE {
	head := *r.cq.head // only this side writes head
	tail := atomic.LoadUint32(r.cq.tail)
	if head == tail {
		return nil
	}
	i := head & r.cq.mask
	n := min(tail-head, uint32(len(r.cq.cqes))-i)
	return r.cq.cqes[i : i+n : i+n]
}

// CQAdvance marks the first n ready completions as reaped, giving their
// slots back to the kernel. Entries from Completions are invalid after.
func (r *Ring) CQAdvance(n uint32) {
	if n != 0 {
		atomic.StoreUint32(r.cq.head, *r.cq.head+n)
	}
}

// CQOverflowed reports whether completions are waiting in the kernel
// because the completion queue was full. No completion is lost for it
// (the kernel keeps them while it can allocate, IORING_FEAT_NODROP):
// they move into the queue at the next SubmitAndWait or Wait once
// entries are reaped. A loop that sees it should reap and enter; until
// it does, the kernel may refuse new submissions with EBUSY.
func (r *Ring) CQOverflowed() bool {
	return atomic.LoadUint32(r.sq.flags)&sqFlagCQOverflow != 0
}

// CQLost returns how many completions the kernel had to drop because the
// queue was full and it could not keep them. It stays 0 unless memory
// ran out.
func (r *Ring) CQLost() uint32 {
	return atomic.LoadUint32(r.cq.overflow)
}
