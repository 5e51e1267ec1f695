package ws

import (
	"math"
	"strconv"
)

// ReaderOptions configures a Reader. The zero value decodes for a server
// with no message size limit and no extension.
type ReaderOptions struct {
	// Role decides the masking required of received frames.
	Role Role
	// MaxMessageSize is the largest message in bytes, the sum of its
	// fragments' payloads (before any decompression). A frame header that
	// would take a message past it fails with code 1009 before its payload
	// is read. <= 0 means no limit.
	MaxMessageSize int64
	// AllowRSV1 lets data messages carry RSV1, which an extension such as
	// permessage-deflate (RFC 7692) owns. Without it RSV1 fails with 1002.
	AllowRSV1 bool
}

// readerState is where a Reader is in the byte stream.
type readerState uint8

const (
	readHeader  readerState = iota // between frames, or inside a header
	readPayload                    // inside a frame's payload
	readDone                       // a Close frame was delivered
	readFailed                     // a protocol error was returned
)

// Reader is a push decoder for the frames one peer sends on one connection:
// it consumes bytes as they arrive, in pieces of any size, and turns them
// into messages and control frames, enforcing RFC 6455 §5 on the way.
//
// Reader starts no goroutines and does no I/O. Between calls it holds at
// most a partial header (up to MaxHeaderSize bytes) and the payload of a
// partial message or control frame; a message that arrives whole in one
// call is returned without copying. A Reader is not safe for concurrent
// use. Its zero value is not usable; use NewReader or Reset.
type Reader struct {
	opts  ReaderOptions
	state readerState
	err   error // sticky, once state is readFailed

	hdr    [MaxHeaderSize]byte // bytes of a header split across calls
	hdrLen int

	frame     Header // the frame being read
	remaining int64  // payload bytes of frame still to come
	maskPos   int    // key position of the next payload byte
	ctrlStart int    // for a control frame, where its payload starts in buf

	inMessage  bool   // a data message has started and not yet ended
	msgOp      Opcode // OpText or OpBinary
	compressed bool
	checkUTF8  bool  // text that is not compressed
	msgSize    int64 // bytes announced so far by the message's frames
	utf8       UTF8Validator

	// buf holds the fragments of a message received so far, followed by
	// the payload of a control frame split across calls. Its memory is
	// reused from message to message until Release.
	buf []byte
}

// NewReader returns a Reader configured by opts.
func NewReader(opts ReaderOptions) *Reader {
	r := &Reader{}
	r.Reset(opts)
	return r
}

// Reset discards all state, keeps the buffer's memory and configures r by
// opts, so a Reader can be reused for another connection.
func (r *Reader) Reset(opts ReaderOptions) {
	buf := r.buf[:0]
	*r = Reader{opts: opts, buf: buf}
}

// Buffered returns how many bytes of partial input r holds: a split
// header, the fragments of an unfinished message, a split control frame.
// It is 0 between messages.
func (r *Reader) Buffered() int { return r.hdrLen + len(r.buf) }

// Footprint returns the bytes of memory r holds for partial input: its
// buffer's capacity, which may exceed Buffered() as the buffer grows in
// steps, plus a split header. It is 0 between messages, whatever buffer r
// keeps for the next one.
func (r *Reader) Footprint() int {
	if r.Buffered() == 0 {
		return 0
	}
	return r.hdrLen + cap(r.buf)
}

// Done reports whether r has delivered a Close event. A done Reader
// returns no further events.
func (r *Reader) Done() bool { return r.state == readDone }

// Release drops the Reader's buffer when it holds no partial input, so an
// idle connection keeps no payload memory; the next message that needs a
// buffer allocates a new one. It does nothing while Buffered() > 0.
func (r *Reader) Release() {
	if len(r.buf) == 0 {
		r.buf = nil
	}
}

// Next consumes bytes from the start of b and returns how many it used and
// at most one event. With ev.Kind == EventNone and err == nil all of b was
// used (n == len(b)) and more bytes are needed. The caller loops:
//
//	for len(b) > 0 {
//		n, ev, err := r.Next(b)
//		if err != nil { … send a Close with the error's code … }
//		b = b[n:]
//		handle(ev)
//	}
//
// Next unmasks payloads in place in b, so b is modified. ev.Payload is
// valid until the next call to Next, Reset or Release: it is either a
// sub-slice of b (when a whole unfragmented message or control frame is in
// b) or a slice of the Reader's buffer.
//
// Errors are *ProtocolError carrying the close code to send; after an
// error r stays failed and Next returns the same error with n == 0. After
// an EventClose r is done: Next uses and ignores all further bytes.
func (r *Reader) Next(b []byte) (n int, ev Event, err error) {
	switch r.state {
	case readFailed:
		return 0, Event{}, r.err
	case readDone:
		return len(b), Event{}, nil
	}
	for {
		if r.state == readHeader {
			used, ok, err := r.readHeader(b[n:])
			n += used
			if err != nil {
				return n, Event{}, r.fail(err)
			}
			if !ok {
				return n, Event{}, nil
			}
		}
		// Read payload.
		in := b[n:]
		take := len(in)
		if int64(take) > r.remaining {
			take = int(r.remaining)
		}
		chunk := in[:take]
		n += take
		whole := int64(take) == r.frame.Length // no earlier call saw any of it
		r.remaining -= int64(take)
		if r.frame.Masked {
			r.maskPos = MaskBytes(r.frame.Mask, r.maskPos, chunk)
		}
		if r.checkUTF8 && !r.frame.Opcode.IsControl() && !r.utf8.Write(chunk) {
			return n, Event{}, r.fail(&ProtocolError{Code: StatusInvalidPayload, Reason: "invalid UTF-8 in text message"})
		}
		if r.remaining > 0 {
			r.buf = append(r.buf, chunk...)
			return n, Event{}, nil
		}
		r.state = readHeader
		ev, err := r.endFrame(chunk, whole)
		if err != nil {
			return n, Event{}, r.fail(err)
		}
		if ev.Kind != EventNone || n == len(b) {
			return n, ev, nil
		}
	}
}

// readHeader reads a frame header from b, completing one split across
// calls, checks it and prepares to read its payload. ok is false when b
// ran out first (then all of b was used).
func (r *Reader) readHeader(b []byte) (used int, ok bool, err error) {
	var h Header
	var hn int
	if r.hdrLen == 0 {
		h, hn, err = ParseHeader(b)
		if err != nil {
			return 0, false, err
		}
		if hn == 0 {
			r.hdrLen = copy(r.hdr[:], b)
			return len(b), false, nil
		}
		used = hn
	} else {
		m := copy(r.hdr[r.hdrLen:], b)
		h, hn, err = ParseHeader(r.hdr[:r.hdrLen+m])
		if err != nil {
			return 0, false, err
		}
		if hn == 0 {
			r.hdrLen += m
			return m, false, nil
		}
		used = hn - r.hdrLen
		r.hdrLen = 0
	}
	if err := r.startFrame(h); err != nil {
		return used, false, err
	}
	r.state = readPayload
	return used, true, nil
}

// startFrame checks h against RFC 6455 and r's options and sets r up to
// read its payload.
func (r *Reader) startFrame(h Header) error {
	op := h.Opcode
	switch {
	case op.IsReserved():
		return protocolErr("reserved opcode " + strconv.Itoa(int(op)))
	case h.Rsv&(Rsv2|Rsv3) != 0:
		return protocolErr("RSV2 or RSV3 set without a negotiated extension")
	case h.Rsv&Rsv1 != 0 && !r.opts.AllowRSV1:
		return protocolErr("RSV1 set without a negotiated extension")
	case h.Rsv&Rsv1 != 0 && (op.IsControl() || op == OpContinuation):
		return protocolErr("RSV1 set on a " + op.String() + " frame")
	case r.opts.Role == ServerSide && !h.Masked:
		return protocolErr("unmasked frame from a client")
	case r.opts.Role != ServerSide && h.Masked:
		return protocolErr("masked frame from a server")
	}
	r.frame = h
	r.remaining = h.Length
	r.maskPos = 0
	if op.IsControl() {
		if h.Length > MaxControlPayload {
			return protocolErr("control frame payload over 125 bytes")
		}
		if !h.Fin {
			return protocolErr("fragmented control frame")
		}
		r.ctrlStart = len(r.buf)
		return nil
	}
	if op == OpContinuation {
		if !r.inMessage {
			return protocolErr("continuation frame without a message to continue")
		}
	} else {
		if r.inMessage {
			return protocolErr("new " + op.String() + " frame inside a fragmented message")
		}
		r.inMessage = true
		r.msgOp = op
		r.compressed = h.Rsv&Rsv1 != 0
		r.checkUTF8 = op == OpText && !r.compressed
		r.msgSize = 0
		r.utf8.Reset()
	}
	if max := r.opts.MaxMessageSize; max > 0 && h.Length > max-r.msgSize {
		return &ProtocolError{Code: StatusMessageTooBig, Reason: "message over the size limit"}
	}
	if h.Length > math.MaxInt64-r.msgSize || h.Length > int64(math.MaxInt)-int64(len(r.buf)) {
		return &ProtocolError{Code: StatusMessageTooBig, Reason: "message too big for this platform"}
	}
	r.msgSize += h.Length
	return nil
}

// endFrame finishes the frame whose last payload bytes are chunk (already
// unmasked and checked) and returns the event it completes, if any. whole
// says chunk is the frame's entire payload, taken from the caller's buffer.
func (r *Reader) endFrame(chunk []byte, whole bool) (Event, error) {
	op := r.frame.Opcode
	if op.IsControl() {
		payload := chunk
		if !whole {
			r.buf = append(r.buf, chunk...)
			payload = r.buf[r.ctrlStart:]
			r.buf = r.buf[:r.ctrlStart]
		}
		switch op {
		case OpPing:
			return Event{Kind: EventPing, Opcode: op, Payload: payload}, nil
		case OpPong:
			return Event{Kind: EventPong, Opcode: op, Payload: payload}, nil
		}
		code, reason, err := ParseClosePayload(payload)
		if err != nil {
			return Event{}, err
		}
		r.state = readDone
		return Event{Kind: EventClose, Opcode: op, Payload: payload, CloseCode: code, CloseReason: reason}, nil
	}
	if !r.frame.Fin {
		r.buf = append(r.buf, chunk...)
		return Event{}, nil
	}
	if r.checkUTF8 && !r.utf8.Complete() {
		return Event{}, &ProtocolError{Code: StatusInvalidPayload, Reason: "text message ends inside a UTF-8 sequence"}
	}
	payload := chunk
	// A message of one frame that arrived whole is returned from the
	// caller's buffer; anything else was assembled in buf.
	if !whole || len(r.buf) != 0 || op == OpContinuation {
		r.buf = append(r.buf, chunk...)
		payload = r.buf
		r.buf = r.buf[:0]
	}
	ev := Event{Kind: EventMessage, Opcode: r.msgOp, Compressed: r.compressed, Payload: payload}
	r.inMessage = false
	r.checkUTF8 = false
	r.msgSize = 0
	return ev, nil
}

// fail makes r fail for good with err.
func (r *Reader) fail(err error) error {
	r.state = readFailed
	r.err = err
	return err
}

// protocolErr returns a *ProtocolError with code 1002.
func protocolErr(reason string) error {
	return &ProtocolError{Code: StatusProtocolError, Reason: reason}
}
