package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/ws"
)

// alarmFuncs is funcs with OnAlarm.
type alarmFuncs struct {
	funcs
	alarm func(*engine.Conn)
}

func (f alarmFuncs) OnAlarm(c *engine.Conn) { f.alarm(c) }

// TestAlarm sets alarms from the Handler and from other goroutines, on
// both engines, with the keep-alive checks far away (25 s): each rings
// on time, in order with the connection's messages, and a cleared or
// replaced one does not ring.
func TestAlarm(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		t.Parallel()
		// A short CloseTimeout makes the epoll sweep 50 ms.
		e := engine.New(engine.Options{Kind: kind, CloseTimeout: 200 * time.Millisecond})
		url := serve(t, e, func() engine.Handler {
			return alarmFuncs{
				funcs: funcs{message: func(c *engine.Conn, op ws.Opcode, p []byte) {
					switch string(p) {
					case "here":
						c.SetAlarm(time.Now().Add(100 * time.Millisecond))
					case "away":
						// From another goroutine, the reader blocked in a read.
						go func() {
							time.Sleep(20 * time.Millisecond)
							c.SetAlarm(time.Now().Add(100 * time.Millisecond))
						}()
					case "clear":
						c.SetAlarm(time.Now().Add(100 * time.Millisecond))
						c.SetAlarm(time.Time{})
					case "later":
						c.SetAlarm(time.Now().Add(100 * time.Millisecond))
						c.SetAlarm(time.Now().Add(400 * time.Millisecond))
					case "close":
						c.SetAlarm(time.Now().Add(50 * time.Millisecond))
						c.Close(4000, "bye")
					}
					c.WriteMessage(ws.OpText, p)
				}},
				alarm: func(c *engine.Conn) { c.WriteMessage(ws.OpText, []byte("ring")) },
			}
		})
		conn, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// ask sends what, expects it back, then a ring between min and
		// max later (or none within max when ring is false).
		ask := func(what string, ring bool, least, most time.Duration) {
			t.Helper()
			start := time.Now()
			conn.WriteMessage(websocket.TextMessage, []byte(what))
			conn.SetReadDeadline(start.Add(most))
			if _, p, err := conn.ReadMessage(); err != nil || string(p) != what {
				t.Fatalf("%s: read %q, %v", what, p, err)
			}
			_, p, err := conn.ReadMessage()
			took := time.Since(start)
			switch {
			case !ring && err == nil:
				t.Fatalf("%s: got %q after %v, want nothing", what, p, took)
			case !ring:
				var ne interface{ Timeout() bool }
				if !errors.As(err, &ne) || !ne.Timeout() {
					t.Fatalf("%s: %v", what, err)
				}
			case err != nil || string(p) != "ring":
				t.Fatalf("%s: read %q, %v after %v, want ring", what, p, err, took)
			case took < least:
				t.Fatalf("%s: rang after %v, want at least %v", what, took, least)
			}
		}
		ask("here", true, 100*time.Millisecond, 2*time.Second)
		ask("away", true, 120*time.Millisecond, 2*time.Second)
		ask("later", true, 400*time.Millisecond, 2*time.Second)
		ask("clear", false, 0, 500*time.Millisecond)
		// A timed-out read leaves gorilla's conn unusable: a new one.
		conn.Close()
		conn, _, err = websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		// No alarm rings on a closing connection.
		conn.WriteMessage(websocket.TextMessage, []byte("close"))
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		var ce *websocket.CloseError
		if _, p, err := conn.ReadMessage(); !errors.As(err, &ce) || ce.Code != 4000 {
			t.Fatalf("after close: %q, %v; want close 4000", p, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for e.Len() > 0 && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
	})
}
