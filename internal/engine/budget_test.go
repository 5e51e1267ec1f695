package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/ws"
)

// stalledMessage is the text message client i sends in two halves: its
// number, then a pattern that depends on both, so a message mixed with
// another's bytes or cut short does not pass checkStalled.
func stalledMessage(i, size int) []byte {
	p := fmt.Appendf(make([]byte, 0, size), "msg %03d ", i)
	for j := len(p); j < size; j++ {
		p = append(p, 'a'+byte((i+j/1000)%26))
	}
	return p
}

func checkStalled(p []byte, size int) error {
	var i int
	if _, err := fmt.Sscanf(string(p[:min(len(p), 8)]), "msg %03d ", &i); err != nil {
		return fmt.Errorf("message of %d bytes starting %q: %v", len(p), p[:min(len(p), 8)], err)
	}
	if !bytes.Equal(p, stalledMessage(i, size)) {
		return fmt.Errorf("message %d: %d bytes, not what was sent", i, len(p))
	}
	return nil
}

// stallClients dials n clients to url; each sends the first half of its
// stalledMessage of size bytes from a goroutine of its own and, once
// finish is closed (never when nil), the rest. Writes may block while
// the engine does not read a connection. The function returned closes
// the clients and waits for their goroutines; it runs when the test ends
// too.
func stallClients(t *testing.T, url string, n, size int, finish <-chan struct{}) (leave func()) {
	t.Helper()
	var wg sync.WaitGroup
	var ncs []net.Conn
	var once sync.Once
	leave = func() {
		once.Do(func() {
			for _, nc := range ncs {
				nc.Close()
			}
			wg.Wait()
		})
	}
	t.Cleanup(leave)
	for i := range n {
		nc, _, _, err := ws.Dial(context.Background(), url, ws.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ncs = append(ncs, nc)
		nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		frame := ws.AppendMaskedFrame(nil, ws.OpText, true, 0, ws.NewMaskKey(), stalledMessage(i, size))
		half := len(frame) / 2
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := nc.Write(frame[:half]); err != nil || finish == nil {
				return
			}
			<-finish
			nc.Write(frame[half:])
		}()
	}
	return leave
}

// TestInputBudgetPausesStalledMessages has 50 clients each send half of
// a 512 KiB message and stall, with a 4 MiB budget: what the engine holds
// stays within the budget and one message (the lease), other clients'
// echoes and Close frames still work, and when the stalled clients finish
// every message arrives whole; the budget is back to zero once they leave.
func TestInputBudgetPausesStalledMessages(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		const (
			conns   = 50
			msgSize = 512 << 10
			budget  = 4 << 20
			maxMsg  = 1 << 20
		)
		e := engine.New(engine.Options{Kind: kind, MaxMessageSize: maxMsg, MaxBufferedInput: budget})
		got := make(chan error, conns)
		url := serve(t, e, func() engine.Handler {
			return funcs{message: func(c *engine.Conn, op ws.Opcode, p []byte) {
				if len(p) < 1024 {
					c.WriteMessage(op, p)
					return
				}
				got <- checkStalled(p, msgSize)
			}}
		})

		finish := make(chan struct{})
		leave := stallClients(t, url, conns, msgSize, finish)
		waitFor(t, func() bool { return e.Stats().InputHeld >= budget })

		// At most the budget, one message finishing past it, and one
		// read per reader: a loop's buffer (epoll), a connection's
		// (goroutine), the small reads of connections between messages.
		bound := int64(budget + msgSize + runtime.GOMAXPROCS(0)*(64<<10) + conns*(4<<10))
		var most int64
		for deadline := time.Now().Add(300 * time.Millisecond); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			most = max(most, e.Stats().InputHeld)
		}
		if most > bound {
			t.Errorf("held %d bytes with a budget of %d; want at most %d", most, budget, bound)
		}
		t.Logf("held at most %d bytes with a budget of %d (bound %d); reads paused %d times", most, budget, bound, e.Stats().InputPaused)
		if e.Stats().InputPaused == 0 {
			t.Error("Stats.InputPaused is 0 with the budget spent")
		}

		// A client between messages is still served: echoes, then its
		// Close is answered.
		cl, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		for i := range 20 {
			msg := fmt.Sprintf("echo %d", i)
			cl.SetReadDeadline(time.Now().Add(5 * time.Second))
			if err := cl.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				t.Fatal(err)
			}
			if _, b, err := cl.ReadMessage(); err != nil || string(b) != msg {
				t.Fatalf("echo %d with the budget spent: %q, %v", i, b, err)
			}
		}
		cl.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		cl.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := cl.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			t.Fatalf("after our Close: %v, want the server's Close 1000", err)
		}

		close(finish)
		for i := range conns {
			select {
			case err := <-got:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("%d of %d stalled messages arrived (held %d)", i, conns, e.Stats().InputHeld)
			}
		}
		leave()
		waitFor(t, func() bool { return e.Len() == 0 && e.Stats().InputHeld == 0 })
	})
}

// TestInputBudgetIdleTimeoutFreesStalledClients has clients stall inside
// messages with the budget spent: the idle timeout still closes each one
// (1001), paused or not, and the budget comes back.
func TestInputBudgetIdleTimeoutFreesStalledClients(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		const conns = 3
		e := engine.New(engine.Options{
			Kind: kind, MaxBufferedInput: 64 << 10,
			PingInterval: 50 * time.Millisecond, IdleTimeout: 200 * time.Millisecond, CloseTimeout: 200 * time.Millisecond,
		})
		closed := make(chan error, conns)
		url := serve(t, e, func() engine.Handler { return funcs{close: func(_ *engine.Conn, err error) { closed <- err }} })
		stallClients(t, url, conns, 200<<10, nil)
		for range conns {
			select {
			case err := <-closed:
				if !errors.Is(err, engine.ErrIdleTimeout) {
					t.Errorf("OnClose: %v, want %v", err, engine.ErrIdleTimeout)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("stalled clients not closed (held %d)", e.Stats().InputHeld)
			}
		}
		waitFor(t, func() bool { return e.Len() == 0 && e.Stats().InputHeld == 0 })
	})
}

// TestReserveInput charges and gives back bytes: a reservation past the
// budget is refused, and releasing makes room again.
func TestReserveInput(t *testing.T) {
	e := engine.New(engine.Options{Kind: engine.Goroutine, MaxBufferedInput: 100})
	defer e.Close()
	if !e.ReserveInput(60) || e.ReserveInput(50) || !e.ReserveInput(40) || !e.ReserveInput(0) {
		t.Fatal("reservations within 100 bytes refused, or one past it accepted")
	}
	if got := e.Stats().InputHeld; got != 100 {
		t.Fatalf("InputHeld = %d, want 100", got)
	}
	e.ReleaseInput(60)
	if !e.ReserveInput(50) {
		t.Fatal("reservation refused after a release made room")
	}
	e.ReleaseInput(90)
	if got := e.Stats().InputHeld; got != 0 {
		t.Fatalf("InputHeld = %d after releasing everything, want 0", got)
	}
	u := engine.New(engine.Options{Kind: engine.Goroutine, MaxBufferedInput: -1})
	defer u.Close()
	if !u.ReserveInput(1 << 40) {
		t.Fatal("no budget refused a reservation")
	}
	u.ReleaseInput(1 << 40)
}

// TestInputBudgetLeaseEnds has the client holding the budget's lease
// stall inside its message while it keeps sending pings: after half
// IdleTimeout another client takes the lease over, and its message
// arrives whole before its idle timeout.
func TestInputBudgetLeaseEnds(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		const size = 200 << 10
		e := engine.New(engine.Options{
			Kind: kind, MaxBufferedInput: 64 << 10,
			PingInterval: 200 * time.Millisecond, IdleTimeout: 800 * time.Millisecond, CloseTimeout: 200 * time.Millisecond,
		})
		got := make(chan error, 1)
		url := serve(t, e, func() engine.Handler {
			return funcs{message: func(_ *engine.Conn, _ ws.Opcode, p []byte) { got <- checkStalled(p, size) }}
		})
		nc, _, _, err := ws.Dial(context.Background(), url, ws.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// The first fragment of a text message: pings may follow it.
		frame := ws.AppendMaskedFrame(nil, ws.OpText, false, 0, ws.NewMaskKey(), stalledMessage(0, 100_000))
		if _, err := nc.Write(frame); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return e.Stats().InputHeld >= 100_000 }) // read past the budget: the lease
		var wg sync.WaitGroup
		defer wg.Wait()
		defer nc.Close()
		wg.Add(1)
		go func() { // pings between the fragments keep it from being idle while it is read
			defer wg.Done()
			ping := ws.AppendMaskedFrame(nil, ws.OpPing, true, 0, ws.NewMaskKey(), []byte("still here"))
			for {
				nc.SetWriteDeadline(time.Now().Add(time.Second))
				if _, err := nc.Write(ping); err != nil {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
		finish := make(chan struct{})
		close(finish)
		stallClients(t, url, 1, size, finish)
		select {
		case err := <-got:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("the other client's message did not arrive (held %d)", e.Stats().InputHeld)
		}
	})
}
