package engine_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/ws"
)

// TestSlowConsumerGets1008 has a client stop reading while the server
// writes until the engine gives up on it (ErrSlowConsumer), then read
// what the sockets still hold, slowly: whole data frames, then a Close
// frame with 1008 on the wire, not a connection dropped without one.
// The client answers the Close, and the server ends the connection with
// ErrSlowConsumer as its cause. Frames are decoded here by hand from the
// raw bytes (RFC 6455 §5.2, §5.5.1), independently of package ws's
// parser.
func TestSlowConsumerGets1008(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		const closeTimeout = 3 * time.Second
		e := engine.New(engine.Options{Kind: kind, MaxQueuedBytes: 64 << 10, CloseTimeout: closeTimeout})
		opened := make(chan *engine.Conn, 1)
		closed := make(chan error, 1)
		url := serve(t, e, func() engine.Handler {
			return funcs{open: func(c *engine.Conn) { opened <- c }, close: func(_ *engine.Conn, err error) { closed <- err }}
		})
		nc, br, _, err := ws.Dial(context.Background(), url, ws.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		c := <-opened

		// The client reads nothing until the server has given up. The
		// server writes 16 KiB a millisecond: slower than the goroutine
		// engine's writer empties its queue into a socket with room, so
		// the limit is passed only once the sockets are full (a burst of
		// writes faster than the writer runs passes it at once).
		msg := bytes.Repeat([]byte{'s'}, 16<<10)
		deadline := time.Now().Add(10 * time.Second)
		for {
			time.Sleep(time.Millisecond)
			err := c.WriteMessage(ws.OpBinary, msg)
			if errors.Is(err, engine.ErrSlowConsumer) {
				break
			}
			if err != nil {
				t.Fatalf("write: %v, want ErrSlowConsumer in the end", err)
			}
			if time.Now().After(deadline) {
				t.Fatal("a client that never reads was not found to be a slow consumer")
			}
		}
		decided := time.Now()

		// Now it drains, 16 KiB every 2 ms (8 MB/s): the sockets may hold
		// megabytes ahead of the Close frame.
		nc.SetReadDeadline(decided.Add(closeTimeout + 5*time.Second))
		var raw []byte
		buf := make([]byte, 16<<10)
		frames := 0
		for {
			n, err := br.Read(buf)
			raw = append(raw, buf[:n]...)
			op, payload, rest, ok := rawFrame(t, raw)
			for ok && op != ws.OpClose {
				if op != ws.OpBinary || !bytes.Equal(payload, msg) {
					t.Fatalf("frame %d: opcode %v, %d bytes, want a whole %d-byte binary message", frames, op, len(payload), len(msg))
				}
				frames++
				raw = rest
				op, payload, rest, ok = rawFrame(t, raw)
			}
			if ok {
				if len(payload) < 2 {
					t.Fatalf("Close frame with payload %q, want a status code", payload)
				}
				code := ws.StatusCode(binary.BigEndian.Uint16(payload))
				if code != ws.StatusPolicyViolation {
					t.Fatalf("Close %d %q, want 1008", code, payload[2:])
				}
				if len(rest) != 0 {
					t.Fatalf("%d bytes after the Close frame", len(rest))
				}
				t.Logf("%v: Close 1008 %q after %d whole frames, %v after the server gave up", kind, payload[2:], frames, time.Since(decided).Round(time.Millisecond))
				break
			}
			if err != nil {
				t.Fatalf("after %d frames and %v: %v, want a Close frame with 1008 (connection dropped without one?)", frames, time.Since(decided).Round(time.Millisecond), err)
			}
			time.Sleep(2 * time.Millisecond)
		}
		reply := ws.AppendClosePayload(nil, ws.StatusPolicyViolation, "")
		if _, err := nc.Write(ws.AppendMaskedFrame(nil, ws.OpClose, true, 0, ws.NewMaskKey(), reply)); err != nil {
			t.Fatalf("answering the Close: %v", err)
		}
		if _, err := br.Read(buf); err != io.EOF {
			t.Errorf("after the closing handshake: %v, want EOF", err)
		}
		select {
		case err := <-closed:
			if !errors.Is(err, engine.ErrSlowConsumer) {
				t.Errorf("OnClose: %v, want ErrSlowConsumer", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no OnClose")
		}
	})
}

// rawFrame decodes the unmasked server frame at the start of b by hand:
// FIN must be set and the RSV bits clear. ok is false while b holds
// less than a whole frame.
func rawFrame(t *testing.T, b []byte) (op ws.Opcode, payload, rest []byte, ok bool) {
	t.Helper()
	if len(b) < 2 {
		return 0, nil, b, false
	}
	if b[0]&0xF0 != 0x80 || b[1]&0x80 != 0 {
		t.Fatalf("frame header %x: want FIN, no RSV bits, no mask", b[:2])
	}
	op = ws.Opcode(b[0] & 0x0F)
	n, hdr := uint64(b[1]&0x7F), 2
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, nil, b, false
		}
		n, hdr = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return 0, nil, b, false
		}
		n, hdr = binary.BigEndian.Uint64(b[2:]), 10
	}
	if uint64(len(b)-hdr) < n {
		return 0, nil, b, false
	}
	end := hdr + int(n)
	return op, b[hdr:end], b[end:], true
}
