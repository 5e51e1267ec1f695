//go:build linux

package uring

import (
	"fmt"
	"slices"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BufRing is a group of provided buffers registered with a Ring
// (IORING_REGISTER_PBUF_RING): a ring of n buffers of one size, from
// which the kernel takes one each time a request prepared with the group
// (PrepRecvMultishot) receives data. A connection waiting for data so
// holds no buffer; the loop's buffers serve whichever sockets have data.
//
// A buffer named by a completion (CQE.BufferID) belongs to the caller
// until Recycle gives it back to the kernel. Buffers live outside the Go
// heap (mmap), so the garbage collector never moves or scans them.
//
// A BufRing belongs to the goroutine that owns its Ring.
type BufRing struct {
	r     *Ring
	group uint16
	size  int
	ring  []byte    // mmap: the entries shared with the kernel
	data  []byte    // mmap: n buffers of size bytes
	bufs  []bufDesc // the entries, over ring
	mask  uint16
	tail  uint16  // entries published so far, wrapping
	word  *uint32 // the 32-bit word holding the shared tail (see publish)
	shift uint32  // where the tail sits in word
}

// bufDesc is struct io_uring_buf. The ring's 16-bit tail overlays the
// resv field of the first entry.
type bufDesc struct {
	addr uint64
	len  uint32
	bid  uint16
	resv uint16
}

// NewBufRing registers a ring of n buffers of size bytes each as buffer
// group group (an id of the caller's choosing, unique on this Ring) and
// gives all of them to the kernel. n must be a power of two, at most
// 32768. The Ring's Close releases the BufRing if Close was not called.
func (r *Ring) NewBufRing(group uint16, n int, size int) (*BufRing, error) {
	if n <= 0 || n > 1<<15 || n&(n-1) != 0 || size <= 0 {
		return nil, fmt.Errorf("uring: buffer ring of %d buffers of %d bytes: n must be a power of two up to 32768", n, size)
	}
	b := &BufRing{r: r, group: group, size: size, mask: uint16(n - 1)}
	var err error
	if b.ring, err = anonMap(n * int(unsafe.Sizeof(bufDesc{}))); err != nil {
		return nil, err
	}
	if b.data, err = anonMap(n * size); err != nil {
		unix.Munmap(b.ring)
		return nil, err
	}
	b.bufs = unsafe.Slice((*bufDesc)(unsafe.Pointer(unsafe.SliceData(b.ring))), n)
	// The tail is the uint16 at byte 14; word is the uint32 at byte 12,
	// sharing it with the first entry's bid (see publish).
	b.word = at[uint32](b.ring, 12)
	one := uint16(1)
	if *(*byte)(unsafe.Pointer(&one)) == 1 {
		b.shift = 16 // little-endian: the tail is the word's high half
	}
	reg := bufReg{ringAddr: uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b.ring)))), ringEntries: uint32(n), bgid: group}
	if err := r.register(registerPbufRing, unsafe.Pointer(&reg), 1); err != nil {
		unix.Munmap(b.data)
		unix.Munmap(b.ring)
		return nil, fmt.Errorf("uring: register buffer ring %d: %w", group, err)
	}
	for id := range n {
		b.put(uint16(id))
	}
	b.publish()
	r.bufRings = append(r.bufRings, b)
	return b, nil
}

func anonMap(size int) ([]byte, error) {
	m, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("uring: mmap %d bytes: %w", size, err)
	}
	return m, nil
}

// Group returns the buffer group id, for PrepRecvMultishot.
func (b *BufRing) Group() uint16 { return b.group }

// Size returns the size of each buffer in bytes.
func (b *BufRing) Size() int { return b.size }

// Buffer returns the first n bytes of buffer id: what a completion with
// BufferID id and Res n received. They are borrowed until Recycle(id).
func (b *BufRing) Buffer(id uint16, n int) []byte {
	off := int(id) * b.size
	return b.data[off : off+n : off+b.size]
}

// Recycle gives buffer id back to the kernel. id must have been handed
// out by a completion and not recycled since: the ring has exactly one
// slot per buffer, so the slot written here is free.
func (b *BufRing) Recycle(id uint16) {
	b.put(id)
	b.publish()
}

// put writes buffer id at the next slot, unpublished.
func (b *BufRing) put(id uint16) {
	d := &b.bufs[b.tail&b.mask]
	d.addr = uint64(uintptr(unsafe.Pointer(&b.data[int(id)*b.size])))
	d.len = uint32(b.size)
	d.bid = id
	b.tail++
}

// publish makes the slots put so far visible to the kernel: it stores the
// tail with release ordering after the slots' plain stores. sync/atomic
// has no 16-bit store, so it stores the 32-bit word that holds the tail
// and the first entry's bid; this side is that bid's only writer and the
// kernel never writes the ring, so the word's other half is stored as it
// already is.
func (b *BufRing) publish() {
	other := uint32(b.bufs[0].bid) << (16 - b.shift)
	atomic.StoreUint32(b.word, other|uint32(b.tail)<<b.shift)
}

// Close unregisters the group and unmaps its buffers. Requests still
// armed on the group must have ended (cancel them and reap their last
// completion) first.
func (b *BufRing) Close() error {
	b.r.bufRings = slices.DeleteFunc(b.r.bufRings, func(x *BufRing) bool { return x == b })
	return b.release()
}

func (b *BufRing) release() error {
	if b.ring == nil {
		return nil
	}
	var err error
	if b.r.fd >= 0 {
		reg := bufReg{bgid: b.group}
		if e := b.r.register(unregisterPbufRing, unsafe.Pointer(&reg), 1); e != nil {
			err = fmt.Errorf("uring: unregister buffer ring %d: %w", b.group, e)
		}
	}
	unix.Munmap(b.data)
	unix.Munmap(b.ring)
	b.data, b.ring, b.bufs = nil, nil, nil
	return err
}
