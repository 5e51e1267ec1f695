package engine

import (
	"errors"
	"math"
	"unicode/utf8"

	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// This file is permessage-deflate (RFC 7692) on both engines: inflating
// the compressed messages a peer sends and compressing the messages
// written with WriteMessage and WriteParts. Prepared frames (WriteFrame)
// and shared bodies (WriteWrapped) carry their own deflated twin, built
// once for every connection. Between messages a connection holds only its
// Params; buffers come from the engine's pool for one message.

// deflating reports whether c negotiated permessage-deflate.
func (c *Conn) deflating() bool { return c.pmd.ServerMaxWindowBits != 0 }

// readerOptions are the decoder options for c: the engine's, with RSV1
// allowed on data messages when c negotiated permessage-deflate.
func (c *Conn) readerOptions() ws.ReaderOptions {
	o := c.engine().readerOptions()
	o.AllowRSV1 = c.deflating()
	return o
}

// countSent counts one data frame written, compressed or not.
func (e *Engine) countSent(deflated bool) {
	if deflated {
		e.sentDeflated.Add(1)
	} else {
		e.sentPlain.Add(1)
	}
}

// writeDeflated sends payload compressed when that is worth it (at least
// the Codec's threshold, and smaller compressed). sent is false when it
// is not, and nothing was sent: the caller sends payload plain. A
// connection with context takeover compresses through its own context
// (stream.go).
func (c *Conn) writeDeflated(op ws.Opcode, payload []byte) (sent bool, err error) {
	if len(payload) < c.engine().opts.Codec.Threshold() {
		return false, nil
	}
	if c.keepsContext() {
		return c.writeContext(op, payload)
	}
	return c.writeStateless(op, payload)
}

// writeStateless is writeDeflated without context: the compressor is
// borrowed from the Codec's pool for this message only.
func (c *Conn) writeStateless(op ws.Opcode, payload []byte) (sent bool, err error) {
	e := c.engine()
	bp := e.getBuf()
	z, ok := e.opts.Codec.Deflate((*bp)[:0], payload, c.pmd.ServerWindow())
	if ok {
		*bp = z
		err = c.writeData(op, ws.Rsv1, z) // copies z when it must wait
	}
	e.putBuf(bp)
	return ok, err
}

// deliverCompressed inflates a compressed message into a pooled buffer,
// checks a text message's UTF-8 and hands it to the Handler. The limit
// of Options.MaxMessageSize is enforced while inflating. It returns a
// *ws.ProtocolError (1009 too large, 1007 corrupt data or invalid UTF-8)
// without calling the Handler when the message cannot be delivered.
func (c *Conn) deliverCompressed(op ws.Opcode, payload []byte) error {
	e := c.engine()
	limit := e.opts.MaxMessageSize
	if limit < 0 {
		limit = math.MaxInt64
	}
	bp := e.getBuf()
	defer e.putBuf(bp)
	msg, err := e.opts.Codec.Inflate((*bp)[:0], payload, limit)
	switch {
	case errors.Is(err, wsflate.ErrTooLarge):
		return &ws.ProtocolError{Code: ws.StatusMessageTooBig, Reason: "message over the size limit after decompression"}
	case err != nil:
		return &ws.ProtocolError{Code: ws.StatusInvalidPayload, Reason: "invalid compressed data"}
	}
	*bp = msg
	if op == ws.OpText && !utf8.Valid(msg) {
		return &ws.ProtocolError{Code: ws.StatusInvalidPayload, Reason: "invalid UTF-8 in text message"}
	}
	c.h.OnMessage(c, op, msg)
	return nil
}
