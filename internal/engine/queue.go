package engine

import (
	"bytes"

	"github.com/wsgate/wsgate/ws"
)

// frameKind is what an entry of an outQueue holds.
type frameKind uint8

const (
	kindData    frameKind = iota // a text or binary message: counts against MaxQueuedBytes
	kindControl                  // a ping or pong
	kindClose                    // our Close frame: the last thing written
)

// outQueue holds what waits to be written to one connection, in the
// order it goes out: the rest of a frame already partly written (head),
// then pings and pongs, then data frames, then our Close frame. Control
// frames overtake queued data but never split a frame. Entries are
// references: a shared frame.Prepared's wire bytes are never copied.
//
// A connection with nothing to write has no outQueue (Conn.out is nil),
// so an idle connection pays a pointer for it. Guarded by Conn.mu.
type outQueue struct {
	head       []byte
	headKind   frameKind
	control    [][]byte
	data       [][]byte
	closeFrame []byte
}

func (q *outQueue) empty() bool {
	return len(q.head) == 0 && len(q.control) == 0 && len(q.data) == 0 && q.closeFrame == nil
}

// maxQueuedControl bounds, in bytes, the control frames waiting for one
// connection: room for a burst of pongs (a client that sends ten pings
// gets ten pongs), never more.
const maxQueuedControl = 4 << 10

// queueControl queues wire, a ping or pong frame of type op, copying it.
// A pong that would take the control frames waiting past
// maxQueuedControl replaces the last pong waiting instead, so a peer that
// sends pings without reading cannot grow the queue: RFC 6455 section
// 5.5.3 lets an endpoint answer only the most recent ping.
func (q *outQueue) queueControl(op ws.Opcode, wire []byte) {
	if op == ws.OpPong && q.controlBytes()+len(wire) > maxQueuedControl {
		for i := len(q.control) - 1; i >= 0; i-- {
			if b := q.control[i]; ws.Opcode(b[0]&0x0F) == ws.OpPong {
				q.control[i] = append(b[:0], wire...)
				return
			}
		}
	}
	q.control = append(q.control, bytes.Clone(wire))
}

// controlBytes is the size of the control frames waiting, in bytes.
func (q *outQueue) controlBytes() int {
	n := 0
	for _, b := range q.control {
		n += len(b)
	}
	return n
}

// gather appends to bufs, in write order, the entries of q, at most max
// of them.
func (q *outQueue) gather(bufs [][]byte, max int) [][]byte {
	add := func(b []byte) bool {
		if len(bufs) == max {
			return false
		}
		bufs = append(bufs, b)
		return true
	}
	if len(q.head) > 0 && !add(q.head) {
		return bufs
	}
	for _, b := range q.control {
		if !add(b) {
			return bufs
		}
	}
	for _, b := range q.data {
		if !add(b) {
			return bufs
		}
	}
	if q.closeFrame != nil {
		add(q.closeFrame)
	}
	return bufs
}

// advance drops the first n bytes of q, as gather ordered them, after a
// write of n bytes. A frame written in part becomes the head. It returns
// the bytes of data frames written and whether our Close frame was
// written whole.
func (q *outQueue) advance(n int) (dataBytes int, closeDone bool) {
	if len(q.head) > 0 {
		k := min(n, len(q.head))
		if q.headKind == kindData {
			dataBytes += k
		}
		q.head = q.head[k:]
		n -= k
		if len(q.head) > 0 {
			return dataBytes, false
		}
		q.head = nil
		if q.headKind == kindClose {
			return dataBytes, true
		}
	}
	if n == 0 {
		return dataBytes, false
	}
	_, n = q.advanceList(&q.control, kindControl, n)
	if n == 0 {
		return dataBytes, false
	}
	var k int
	k, n = q.advanceList(&q.data, kindData, n)
	dataBytes += k
	if n == 0 || q.closeFrame == nil {
		return dataBytes, false
	}
	if n < len(q.closeFrame) {
		q.head, q.headKind = q.closeFrame[n:], kindClose
		q.closeFrame = nil
		return dataBytes, false
	}
	q.closeFrame = nil
	return dataBytes, true
}

// advanceList drops up to n bytes from the front of *list; an entry
// written in part becomes q.head. It returns the bytes dropped and what
// is left of n.
func (q *outQueue) advanceList(list *[][]byte, kind frameKind, n int) (done, left int) {
	l := *list
	i := 0
	for i < len(l) && n > 0 {
		b := l[i]
		if n < len(b) {
			q.head, q.headKind = b[n:], kind
			done += n
			n = 0
			i++
			break
		}
		done += len(b)
		n -= len(b)
		i++
	}
	clear(l[:i])
	l = l[i:]
	if len(l) == 0 {
		l = nil
	}
	*list = l
	return done, n
}

// dropData discards the queued data frames that have not started to go
// out and returns their size in bytes.
func (q *outQueue) dropData() int {
	n := 0
	for _, b := range q.data {
		n += len(b)
	}
	q.data = nil
	return n
}

// dataBytes counts the bytes of a batch's data frames; control frames
// (pings, pongs, Close) are not counted against the queue limit.
func dataBytes(batch [][]byte) int {
	n := 0
	for _, b := range batch {
		if len(b) > 0 && ws.Opcode(b[0]&0x0F).IsControl() {
			continue
		}
		n += len(b)
	}
	return n
}
