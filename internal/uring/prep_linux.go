//go:build linux

package uring

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// SQE is a submission queue entry (struct io_uring_sqe, 64 bytes), got
// from GetSQE and filled by one of its Prep methods. Each Prep method
// writes the whole entry, userData included: the value the completion
// carries back.
//
// Buffers and iovecs given to a Prep method are used by the kernel after
// the method returns. Iovec arrays must stay untouched until Submit
// returns (the kernel copies them then, IORING_FEAT_SUBMIT_STABLE); the
// bytes they and the other buffers point to until the completion is
// reaped. See the package doc for where such memory may live.
type SQE struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64
	addr        uint64
	len         uint32
	opFlags     uint32 // rw_flags, msg_flags, poll32_events, cancel_flags…
	userData    uint64
	bufIndex    uint16 // buf_index or buf_group
	personality uint16
	spliceFDIn  int32
	addr3       uint64
	_           uint64
}

// curPos as a read or write offset means "the file's position", as
// read(2) and write(2); sockets and pipes have none.
const curPos = ^uint64(0)

func addrOf(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) }

// PrepNop prepares a request that does nothing and completes with 0.
func (s *SQE) PrepNop(userData uint64) {
	*s = SQE{opcode: opNop, fd: -1, userData: userData}
}

// PrepRead prepares read(2) of up to len(b) bytes from fd into b. Res is
// the count read, 0 at the end of the stream, or -errno. On a socket
// without data the request waits (the kernel polls for it), whether fd
// is non-blocking or not.
func (s *SQE) PrepRead(fd int, b []byte, userData uint64) {
	*s = SQE{opcode: opRead, fd: int32(fd), off: curPos, addr: addrOf(b), len: uint32(len(b)), userData: userData}
}

// PrepWrite prepares write(2) of b to fd. Res may be less than len(b)
// (a short write): the caller writes the rest with another request.
func (s *SQE) PrepWrite(fd int, b []byte, userData uint64) {
	*s = SQE{opcode: opWrite, fd: int32(fd), off: curPos, addr: addrOf(b), len: uint32(len(b)), userData: userData}
}

// PrepRecv prepares recv(2) of up to len(b) bytes from the socket fd,
// with the MSG_ flags msgFlags. Res is the count, 0 when the peer has
// shut down its side, or -errno.
func (s *SQE) PrepRecv(fd int, b []byte, msgFlags int, userData uint64) {
	*s = SQE{opcode: opRecv, fd: int32(fd), addr: addrOf(b), len: uint32(len(b)), opFlags: uint32(msgFlags), userData: userData}
}

// PrepRecvMultishot prepares a recv from the socket fd that stays armed:
// each time data arrives the kernel takes a buffer of group (a BufRing),
// fills it and posts a completion with HasBuffer, BufferID and, while
// the request stays armed, More. Without More it has ended: Res 0 is the
// end of the stream, -ENOBUFS means the group ran out of buffers (recycle
// some, then prepare it again), another -errno an error.
func (s *SQE) PrepRecvMultishot(fd int, group uint16, userData uint64) {
	*s = SQE{opcode: opRecv, flags: sqeBufferSelect, ioprio: recvMultishot, fd: int32(fd), bufIndex: group, userData: userData}
}

// PrepWritev prepares writev(2) of the buffers iov describes to fd, in
// one request. Res is the total written, which may be short.
func (s *SQE) PrepWritev(fd int, iov []unix.Iovec, userData uint64) {
	*s = SQE{opcode: opWritev, fd: int32(fd), off: curPos, addr: uint64(uintptr(unsafe.Pointer(unsafe.SliceData(iov)))), len: uint32(len(iov)), userData: userData}
}

// PrepSend prepares send(2) of b on the socket fd with the MSG_ flags
// msgFlags. Res may be less than len(b) (a short send) unless msgFlags
// holds MSG_WAITALL, which makes the kernel retry until all is sent.
func (s *SQE) PrepSend(fd int, b []byte, msgFlags int, userData uint64) {
	*s = SQE{opcode: opSend, fd: int32(fd), addr: addrOf(b), len: uint32(len(b)), opFlags: uint32(msgFlags), userData: userData}
}

// PrepSendmsg prepares sendmsg(2) of msg on the socket fd. msg, and what
// it points to, must stay untouched until the completion is reaped.
func (s *SQE) PrepSendmsg(fd int, msg *unix.Msghdr, msgFlags int, userData uint64) {
	*s = SQE{opcode: opSendmsg, fd: int32(fd), addr: uint64(uintptr(unsafe.Pointer(msg))), len: 1, opFlags: uint32(msgFlags), userData: userData}
}

// PrepPollAdd prepares a wait until fd is ready for the poll events
// (unix.POLLIN…); Res is the events that are ready. With multishot the
// request stays armed and completes (with More) at each readiness.
func (s *SQE) PrepPollAdd(fd int, events uint32, multishot bool, userData uint64) {
	*s = SQE{opcode: opPollAdd, fd: int32(fd), opFlags: events, userData: userData}
	if multishot {
		s.len = pollAddMulti
	}
}

// PrepCancel prepares the cancellation of the request, or, with all, the
// requests, prepared with target as their user data. The cancelled
// request completes with -ECANCELED (or with its own result, when it was
// finishing anyway). This request completes with 0 (one cancelled), the
// number cancelled (all), -ENOENT (none found) or -EALREADY (the request
// was running and may not stop).
func (s *SQE) PrepCancel(target uint64, all bool, userData uint64) {
	*s = SQE{opcode: opAsyncCancel, fd: -1, addr: target, userData: userData}
	if all {
		s.opFlags = cancelAll
	}
}
