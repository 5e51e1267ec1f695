//go:build linux

package uring

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel's io_uring ABI (include/uapi/linux/io_uring.h), as far as
// this package uses it.

// Setup flags, features, ring flags, enter flags, mmap offsets and
// register opcodes.
const (
	setupCQSize        = 1 << 3
	setupClamp         = 1 << 4
	setupSubmitAll     = 1 << 7
	setupCoopTaskrun   = 1 << 8
	setupTaskrunFlag   = 1 << 9
	featSingleMmap     = 1 << 0
	sqFlagCQOverflow   = 1 << 1 // io_sqring flags: completions wait in the kernel's overflow list
	sqFlagTaskrun      = 1 << 2 // io_sqring flags: completions wait for io_uring_enter(GETEVENTS)
	enterGetEvents     = 1 << 0
	offSQRing          = 0
	offCQRing          = 0x8000000
	offSQEs            = 0x10000000
	registerEventfd    = 4
	unregisterEventfd  = 5
	registerPbufRing   = 22
	unregisterPbufRing = 23
	registerSyncCancel = 24
)

// Opcodes.
const (
	opNop         = 0
	opWritev      = 2
	opPollAdd     = 6
	opSendmsg     = 9
	opAsyncCancel = 14
	opRead        = 22
	opWrite       = 23
	opSend        = 26
	opRecv        = 27
)

// SQE flags and per-opcode flags.
const (
	sqeBufferSelect     = 1 << 5 // IOSQE_BUFFER_SELECT
	pollAddMulti        = 1 << 0 // IORING_POLL_ADD_MULTI, in len
	recvMultishot       = 1 << 1 // IORING_RECV_MULTISHOT, in ioprio
	cancelAll           = 1 << 0 // IORING_ASYNC_CANCEL_ALL
	cancelAny           = 1 << 2 // IORING_ASYNC_CANCEL_ANY
	cqeBufferShift      = 16
	cqeFlagBuffer       = 1 << 0
	cqeFlagMore         = 1 << 1
	cqeFlagSockNonempty = 1 << 2
)

// sqRingOffsets is struct io_sqring_offsets.
type sqRingOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

// cqRingOffsets is struct io_cqring_offsets.
type cqRingOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

// params is struct io_uring_params.
type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqRingOffsets
	cqOff                                                                  cqRingOffsets
}

// bufReg is struct io_uring_buf_reg.
type bufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid        uint16
	pad         uint16
	resv        [3]uint64
}

// syncCancelReg is struct io_uring_sync_cancel_reg.
type syncCancelReg struct {
	addr    uint64
	fd      int32
	flags   uint32
	timeout unix.Timespec
	pad     [4]uint64
}

// The kernel's sizes, checked when compiling: a struct of another size
// makes one of these constants negative, which a uintptr cannot hold.
const (
	_ = unsafe.Sizeof(SQE{}) - 64
	_ = 64 - unsafe.Sizeof(SQE{})
	_ = unsafe.Sizeof(CQE{}) - 16
	_ = 16 - unsafe.Sizeof(CQE{})
	_ = unsafe.Sizeof(params{}) - 120
	_ = 120 - unsafe.Sizeof(params{})
	_ = unsafe.Sizeof(bufDesc{}) - 16
	_ = 16 - unsafe.Sizeof(bufDesc{})
	_ = unsafe.Sizeof(bufReg{}) - 40
	_ = 40 - unsafe.Sizeof(bufReg{})
	_ = unsafe.Sizeof(syncCancelReg{}) - 64
	_ = 64 - unsafe.Sizeof(syncCancelReg{})
)
