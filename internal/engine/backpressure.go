package engine

import "github.com/wsgate/wsgate/ws"

// This file is the send queue's policy, the same under both engines.
//
// A connection's queue of data frames (Conn.queued) may pass
// Options.MaxQueuedBytes: a burst the peer takes a moment to read is no
// fault. While it is over the limit the connection's reader stops reading
// it (stFull): the socket keeps what the peer sends, TCP pushes back on
// the peer, and a client that writes requests without reading their
// replies stops adding to its own queue. The reader reads again once the
// queue is back at the limit or below. If the queue stays over the limit
// for half of Options.WriteTimeout, or would pass twice the limit
// (publications keep coming while reading is stopped), the peer is a slow
// consumer: its queue is dropped and it is closed with 1008. Half, so that
// a peer that stopped reading altogether is closed as what it is, a slow
// consumer, with a Close frame that says so, before WriteTimeout drops it
// without a word for accepting no byte. So the queue never holds
// more than twice MaxQueuedBytes, plus one message larger than that
// accepted when nothing waited.

// holdReading reports whether the reader must stop reading c, at now
// (engine clock): its queue is over MaxQueuedBytes and it is not closing
// (a closing connection is read for the peer's Close). The first time,
// it records when reading stopped, counts the pause, and gives up the
// input budget's lease, which a connection that is not read must not keep
// from the others. Only the reader calls it.
func (c *Conn) holdReading(now int64) bool {
	e := c.engine()
	c.mu.Lock()
	hold := c.state&(stCloseSent|stAborted) == 0 && c.queued > e.opts.MaxQueuedBytes
	first := hold && c.state&stFull == 0
	if first {
		c.state |= stFull
		c.moreLocked().fullAt = now
	}
	c.mu.Unlock()
	if first {
		e.queuePaused.Add(1)
		c.dropLease()
	}
	return hold
}

// dequeuedLocked records that n bytes of data frames left the queue
// (written, or dropped) and lets the reader read again when the queue is
// back within its limit. c.mu must be held.
func (c *Conn) dequeuedLocked(n int) {
	c.queued -= n
	if c.state&stFull != 0 && c.queued <= c.engine().opts.MaxQueuedBytes {
		c.resumeReadingLocked()
	}
}

// resumeReadingLocked clears stFull and has the transport read c again.
// c.mu must be held.
func (c *Conn) resumeReadingLocked() {
	if c.state&stFull != 0 {
		c.state &^= stFull
		c.tr.resumeReadLocked()
	}
}

// fullTooLongLocked reports whether c's queue has been over its limit,
// and reading stopped, for half of WriteTimeout at now (engine clock).
// c.mu must be held.
func (c *Conn) fullTooLongLocked(now int64) bool {
	return c.state&stFull != 0 && now >= c.fullUntilLocked()
}

// fullUntilLocked is when a queue over its limit since connMore.fullAt
// makes c a slow consumer (engine clock). c.mu must be held, c stFull.
func (c *Conn) fullUntilLocked() int64 {
	return c.moreLocked().fullAt + int64(c.engine().opts.WriteTimeout)/2
}

// slowConsumerLocked gives up on a peer that does not keep up: what is
// queued and not started is dropped (a client resumes from its last seq),
// and a Close with 1008 goes out behind the frame being written. c.mu
// must be held.
func (c *Conn) slowConsumerLocked() {
	if c.out != nil {
		c.dequeuedLocked(c.out.dropData())
	}
	c.setCauseLocked(ErrSlowConsumer)
	c.startCloseLocked(ws.StatusPolicyViolation, "slow consumer")
}
