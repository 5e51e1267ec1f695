//go:build linux

package engine_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/ws"
)

// echoCounting echoes every message and counts those it received.
func echoCounting(received *atomic.Int64, closed chan<- error) engine.Handler {
	return funcs{
		message: func(c *engine.Conn, op ws.Opcode, p []byte) {
			received.Add(1)
			c.WriteMessage(op, p)
		},
		close: func(_ *engine.Conn, err error) { closed <- err },
	}
}

// numbered is message i of a test: size bytes that start with i.
func numbered(i, size int) []byte {
	b := bytes.Repeat([]byte{byte('a' + i%26)}, size)
	binary.BigEndian.PutUint32(b, uint32(i))
	return b
}

// waitUntil polls cond every 10ms, failing the test after limit: a guard
// against a hang, not a measure of speed.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFullQueueStopsReading has a client send echo requests without
// reading the replies. Once more than MaxQueuedBytes of replies wait, the
// server stops reading the client, and the client's writes stall (TCP
// pushes back) with most of its requests unread and no error. When
// the client then reads, it gets every reply, in order, and the server
// reads the rest of its requests: nothing is lost and the connection is
// not closed, for the client fell behind for less than WriteTimeout.
func TestFullQueueStopsReading(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		const (
			limit = 64 << 10
			size  = 16 << 10
			count = 2048 // 32 MiB each way: more than the sockets hold
		)
		e := engine.New(engine.Options{Kind: kind, MaxQueuedBytes: limit, WriteTimeout: time.Minute})
		var received atomic.Int64
		closed := make(chan error, 1)
		url := serve(t, e, func() engine.Handler { return echoCounting(&received, closed) })
		nc, br, _, err := ws.Dial(context.Background(), url, ws.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()

		wrote := make(chan error, 1)
		go func() {
			key := ws.NewMaskKey()
			for i := range count {
				if _, err := nc.Write(ws.AppendMaskedFrame(nil, ws.OpBinary, true, 0, key, numbered(i, size))); err != nil {
					wrote <- err
					return
				}
			}
			wrote <- nil
		}()

		// The server stops reading once replies pass the limit; the
		// kernel may still take a few more replies into buffers that grow,
		// letting it read a few more requests. Then everything stalls.
		waitUntil(t, 30*time.Second, "the server stopping reading", func() bool { return e.Stats().QueuePaused > 0 })
		last := received.Load()
		stableSince := time.Now()
		waitUntil(t, 30*time.Second, "the server reading no more requests", func() bool {
			if n := received.Load(); n != last {
				last, stableSince = n, time.Now()
			}
			return time.Since(stableSince) >= 500*time.Millisecond
		})
		if last == count {
			t.Fatalf("the server read all %d requests: the test needs more than the sockets hold", count)
		}
		select {
		case err := <-wrote:
			t.Fatalf("the client wrote every request (%v) while the server read only %d: nothing pushed back", err, last)
		case err := <-closed:
			t.Fatalf("connection closed: %v", err)
		default:
		}
		t.Logf("%v: %d of %d requests read while the client read nothing", kind, last, count)

		var raw []byte
		buf := make([]byte, 64<<10)
		nc.SetReadDeadline(time.Now().Add(60 * time.Second))
		for i := 0; i < count; {
			op, payload, rest, ok := rawFrame(t, raw)
			if !ok {
				n, err := br.Read(buf)
				if err != nil {
					t.Fatalf("reply %d: %v", i, err)
				}
				raw = append(raw, buf[:n]...)
				continue
			}
			if op != ws.OpBinary || !bytes.Equal(payload, numbered(i, size)) {
				t.Fatalf("reply %d: opcode %v, %d bytes, want echo %d", i, op, len(payload), i)
			}
			raw = append(raw[:0], rest...)
			i++
		}
		if err := <-wrote; err != nil {
			t.Fatalf("client write: %v", err)
		}
		select {
		case err := <-closed:
			t.Fatalf("connection closed: %v", err)
		default:
		}
	})
}

// TestQueueFullTooLongIsSlowConsumer has a client send echo requests
// and never read the replies. The server stops reading it, and once its
// queue has stayed over MaxQueuedBytes for half of WriteTimeout it is a
// slow consumer: closed with 1008 (ErrSlowConsumer), before the write
// timeout would drop it for accepting no byte.
func TestQueueFullTooLongIsSlowConsumer(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		e := engine.New(engine.Options{Kind: kind, MaxQueuedBytes: 64 << 10, WriteTimeout: 2 * time.Second})
		var received atomic.Int64
		closed := make(chan error, 1)
		url := serve(t, e, func() engine.Handler { return echoCounting(&received, closed) })
		nc, _, _, err := ws.Dial(context.Background(), url, ws.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		go func() {
			key := ws.NewMaskKey()
			for i := 0; ; i++ {
				if _, err := nc.Write(ws.AppendMaskedFrame(nil, ws.OpBinary, true, 0, key, numbered(i, 16<<10))); err != nil {
					return // closed by the server, or by the test's end
				}
			}
		}()
		select {
		case err := <-closed:
			if !errors.Is(err, engine.ErrSlowConsumer) {
				t.Fatalf("OnClose: %v, want ErrSlowConsumer", err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("no OnClose within 60s")
		}
		if e.Stats().QueuePaused == 0 {
			t.Error("QueuePaused is 0: the server never stopped reading")
		}
	})
}
