package bench

import (
	"cmp"
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// errStopped ends a connection's loop when the run is over.
var errStopped = errors.New("bench: run stopped")

// errNoDeflate: --deflate was given and the server declined compression.
var errNoDeflate = errors.New("bench: permessage-deflate declined")

// maxInflated is the largest message, in bytes, a --deflate client
// inflates.
const maxInflated = 64 << 20

// conn is the client side of one WebSocket connection, driven by one
// goroutine: it is not safe for concurrent use, except stopOn's callback.
type conn struct {
	id   int
	nc   net.Conn
	rd   *ws.Reader
	in   []byte // read buffer
	pend []byte // bytes the handshake read past the 101 response
	out  []byte // frames waiting for flush
	// writeEach: flush writes each frame on its own (ends marks where
	// each one ends in out) instead of all of out at once.
	writeEach bool
	ends      []int
	rng       *rand.ChaCha8

	z    *wsflate.Codec // permessage-deflate negotiated; nil: plain
	zout []byte         // scratch for compressing one message
	zin  []byte         // the last inflated message

	// closed is the Close the server sent, if any.
	closed    *ws.CloseError
	sentClose bool // our Close went out: the server's is not answered
}

// dialConn opens connection id to t and completes the handshake within
// timeout. readBuf is the size of its read buffer in bytes.
func dialConn(ctx context.Context, t target, id, readBuf int, timeout time.Duration, subprotocols []string) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var offer string
	if t.deflate != nil {
		offer = wsflate.ClientOffer
	}
	nc, br, hs, err := ws.Dial(ctx, t.urlFor(id), ws.DialOptions{NetDialer: t.dialer(id), Subprotocols: subprotocols, Extensions: offer})
	if err != nil {
		return nil, err
	}
	if t.deflate != nil {
		if _, ok, err := wsflate.AcceptResponse([]string{hs.Extensions}); !ok || err != nil {
			nc.Close()
			return nil, fmt.Errorf("bench: --deflate: the server answered %q: %w", hs.Extensions, cmp.Or(err, errNoDeflate))
		}
	}
	c := &conn{
		id: id,
		nc: nc,
		rd: ws.NewReader(ws.ReaderOptions{Role: ws.ClientSide, AllowRSV1: t.deflate != nil}),
		in: make([]byte, readBuf),
		z:  t.deflate,
	}
	if n := br.Buffered(); n > 0 {
		c.pend, _ = br.Peek(n)
		c.pend = append([]byte(nil), c.pend...)
	}
	c.rng = newMaskSource()
	return c, nil
}

// newMaskSource returns a ChaCha8 stream seeded from crypto/rand.
func newMaskSource() *rand.ChaCha8 {
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // never fails since Go 1.24
	return rand.NewChaCha8(seed)
}

// maskKey returns a fresh masking key. ChaCha8 is a CSPRNG seeded from
// crypto/rand, so keys stay unpredictable (RFC 6455 §5.3) without a
// system call per frame.
func (c *conn) maskKey() [4]byte {
	v := c.rng.Uint64()
	return [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
}

// queue appends one whole masked frame to the output; with
// permessage-deflate a data message that shrinks is sent compressed.
func (c *conn) queue(op ws.Opcode, payload []byte) {
	if c.z != nil && op.IsData() {
		if z, ok := c.z.Deflate(c.zout[:0], payload, wsflate.WindowFull); ok {
			c.zout = z
			c.out = ws.AppendMaskedFrame(c.out, op, true, ws.Rsv1, c.maskKey(), z)
			c.endFrame()
			return
		}
	}
	c.out = ws.AppendMaskedFrame(c.out, op, true, 0, c.maskKey(), payload)
	c.endFrame()
}

// endFrame marks the end of the frame just queued, for --write-each.
func (c *conn) endFrame() {
	if c.writeEach {
		c.ends = append(c.ends, len(c.out))
	}
}

// flush writes the queued frames: in one write, or with --write-each one
// write per frame, as a browser sends each message when it is made.
func (c *conn) flush() error {
	if len(c.out) == 0 {
		return nil
	}
	var err error
	if c.writeEach {
		from := 0
		for _, end := range c.ends {
			if _, err = c.nc.Write(c.out[from:end]); err != nil {
				break
			}
			from = end
		}
		c.ends = c.ends[:0]
	} else {
		_, err = c.nc.Write(c.out)
	}
	c.out = c.out[:0]
	return err
}

// read reads once from the socket and decodes every complete event in
// what arrived. Messages go to onMessage, whose ev.Payload is valid only
// until it returns. Pings are answered (queued; the caller flushes). A
// Close from the server is answered and returned as a *ws.CloseError.
func (c *conn) read(onMessage func(ev ws.Event)) error {
	b := c.pend
	c.pend = nil
	if len(b) == 0 {
		n, err := c.nc.Read(c.in)
		if n == 0 {
			return err
		}
		b = c.in[:n]
	}
	for len(b) > 0 {
		n, ev, err := c.rd.Next(b)
		if err != nil {
			return fmt.Errorf("bench: from server: %w", err)
		}
		b = b[n:]
		switch ev.Kind {
		case ws.EventMessage:
			if ev.Compressed {
				if c.zin, err = c.z.Inflate(c.zin[:0], ev.Payload, maxInflated); err != nil {
					return fmt.Errorf("bench: from server: %w", err)
				}
				ev.Payload, ev.Compressed = c.zin, false
			}
			onMessage(ev)
		case ws.EventPing:
			c.queue(ws.OpPong, ev.Payload)
		case ws.EventClose:
			c.closed = &ws.CloseError{Code: ev.CloseCode, Reason: ev.CloseReason}
			code := ev.CloseCode
			if code == ws.StatusNoStatusRcvd {
				code = ws.StatusNormalClosure
			}
			if !c.sentClose {
				c.sentClose = true
				c.queue(ws.OpClose, ws.AppendClosePayload(nil, code, ""))
				_ = c.flush()
			}
			return c.closed
		}
	}
	return nil
}

// stopOn makes blocked reads and writes fail once ctx ends. The returned
// release undoes it and waits for a deadline change in flight.
func (c *conn) stopOn(ctx context.Context) (release func()) {
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = c.nc.SetDeadline(time.Unix(1, 0))
		close(fired)
	})
	return func() {
		if !stop() && ctx.Err() != nil {
			<-fired
		}
	}
}

// shutdown ends the connection: it sends a Close (1000) unless the
// server closed first, waits up to wait for the server's Close or EOF,
// discarding messages still in flight, then closes the socket.
func (c *conn) shutdown(wait time.Duration) {
	defer c.nc.Close()
	if c.closed != nil {
		return
	}
	_ = c.nc.SetDeadline(time.Now().Add(wait))
	c.sentClose = true
	c.queue(ws.OpClose, ws.AppendClosePayload(nil, ws.StatusNormalClosure, ""))
	if c.flush() != nil {
		return
	}
	for c.read(func(ws.Event) {}) == nil {
	}
}
