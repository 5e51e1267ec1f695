package engine

import "net"

// transport is what an engine adds to a Conn: how frames reach the
// socket, who writes what waits in the Conn's queue, and how the socket
// is half-closed and dropped. Conn keeps the state machine both engines
// share (conn.go, read.go, queue.go) and calls these methods where the
// engines differ. Two types implement it, each embedding the Conn it
// serves so that a connection is one allocation:
//
//   - goConn (goroutine.go): a net.Conn, a goroutine that reads it and a
//     writer goroutine that sends what the Conn queues. Every system.
//   - epollConn (conn_epoll_linux.go): a socket owned by an event loop
//     (epoll or io_uring). Writes go to the socket from the writing
//     goroutine, into the loop's batch while the loop handles the
//     connection's input, or to the loop's next turn (under io_uring, a
//     request in the loop's ring). Linux only.
//
// Methods whose names end in Locked need Conn.mu held; the others are
// called without it. No method name is also one of Conn's, so that a
// method an implementation lacked could not be filled in, wrongly, by
// the embedded Conn.
type transport interface {
	// servedBy returns the Engine that runs the connection.
	servedBy() *Engine
	// peerAddr is the peer's network address.
	peerAddr() net.Addr

	// sendLocked sends f, one frame of kind, without queueing it when it
	// can: epoll writes it to the socket when nothing waits, or appends
	// it to the loop's batch while the loop handles the connection's
	// input (not our Close). It reports false, having sent nothing, when
	// the frame must wait in Conn.out: the caller queues it. owned says
	// f.b[0] is the whole frame and may be kept by reference.
	sendLocked(f frameBufs, kind frameKind, owned bool) bool
	// passLocked hands wire, a data frame shared by reference
	// (WriteFrame), to whoever writes the connection, so that the caller
	// pays a queue append and no system call: the goroutine engine's
	// writer, or the epoll loop on its next turn (at once into the batch
	// while the loop handles the connection's input). Errors are
	// queueDataLocked's.
	passLocked(wire []byte) error
	// flushHeldLocked writes out frames the transport holds back without
	// the socket having refused them (epoll: the loop's batch, frames
	// left to the loop's turn), so that the slow-consumer policy counts
	// only what the peer did not take.
	flushHeldLocked()
	// resumeReadLocked has the reader read the connection again after it
	// stopped for a full queue (backpressure.go): the goroutine engine
	// wakes its read goroutine, epoll asks the loop to read the socket
	// (no new edge comes for bytes it already reported).
	resumeReadLocked()
	// signal tells the writer there is work. Under epoll nothing waits
	// for a signal: the socket's drain edge or the loop's turn comes.
	signal()

	// closeStartedLocked is called once our Close frame is queued or
	// written and connMore.closeBy is set: the goroutine engine's reader
	// waits for the peer's Close until then.
	closeStartedLocked()
	// finLocked sends FIN after our Close frame, when we failed the
	// connection, so that the peer ends the TCP connection.
	finLocked()
	// stalledLocked reports whether the peer has accepted no byte for
	// Options.WriteTimeout while data waited, at now (engine clock).
	// Always false under the goroutine engine, whose writes carry their
	// own deadline.
	stalledLocked(now int64) bool
	// alarmSetLocked is called when the alarm changed: the goroutine
	// engine moves its read deadline; under epoll the sweep sees it.
	alarmSetLocked()
	// abortedLocked is called once, when the connection is marked
	// aborted: epoll asks the loop to close the socket and call OnClose.
	abortedLocked()
	// dropped is called after every abort, without Conn.mu: the
	// goroutine engine closes its net.Conn, ending a blocked read or
	// write, and wakes its writer to return.
	dropped()
}

// frameBufs is one frame as consecutive buffers: a header followed by up
// to maxParts payload parts, or a whole frame in b[0]. It is passed by
// value: a slice handed to an interface method is assumed to escape, so
// a [][]byte would cost every write an allocation.
type frameBufs struct {
	b [1 + maxParts][]byte
	n int
}

// oneBuf is the frame whose bytes are all in wire.
func oneBuf(wire []byte) frameBufs {
	return frameBufs{b: [1 + maxParts][]byte{wire}, n: 1}
}

// size is the frame's length in bytes.
func (f *frameBufs) size() int {
	n := 0
	for _, b := range f.b[:f.n] {
		n += len(b)
	}
	return n
}
