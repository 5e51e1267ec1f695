package engine_test

import (
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/internal/frame"
	"github.com/wsgate/wsgate/ws"
)

// TestWriteFrameFanOut hands shared frames to many connections with
// WriteFrame, as a publication's fan-out does, then closes them: every
// peer gets every frame, in order, then the Close frame, and the
// publisher never waits for a socket.
func TestWriteFrameFanOut(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		const conns, frames = 200, 50
		e := engine.New(engine.Options{Kind: kind})
		opened := make(chan *engine.Conn, conns)
		url := serve(t, e, func() engine.Handler { return funcs{open: func(c *engine.Conn) { opened <- c }} })

		var readers sync.WaitGroup
		subs := make([]*engine.Conn, 0, conns)
		for range conns {
			cl, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				t.Fatal(err)
			}
			subs = append(subs, <-opened)
			readers.Add(1)
			go func() {
				defer readers.Done()
				defer cl.Close()
				for i := range frames {
					cl.SetReadDeadline(time.Now().Add(10 * time.Second))
					_, b, err := cl.ReadMessage()
					if err != nil {
						t.Errorf("frame %d: %v", i, err)
						return
					}
					if got := binary.BigEndian.Uint32(b); got != uint32(i) {
						t.Errorf("got frame %d, want %d", got, i)
						return
					}
				}
				_, _, err := cl.ReadMessage()
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
					t.Errorf("after the frames: %v, want close 1001", err)
				}
			}()
		}
		for i := range frames {
			f := frame.New(ws.OpBinary, binary.BigEndian.AppendUint32(nil, uint32(i)))
			for _, c := range subs {
				if err := c.WriteFrame(f); err != nil {
					t.Fatalf("write %d: %v", i, err)
				}
			}
		}
		for _, c := range subs {
			c.Close(ws.StatusGoingAway, "done")
		}
		readers.Wait()
		waitFor(t, func() bool { return e.Len() == 0 })
		for _, c := range subs {
			if err := c.WriteFrame(frame.New(ws.OpText, []byte("late"))); err != engine.ErrClosed {
				t.Fatalf("write after close: %v, want ErrClosed", err)
			}
		}
	})
}

// TestWriteFrameSlowConsumer writes shared frames to a peer that never
// reads: the frames wait (they are not counted as refused until the
// socket refuses them), and once the socket is full and the queue limit
// is passed the connection is closed as a slow consumer.
func TestWriteFrameSlowConsumer(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		e := engine.New(engine.Options{Kind: kind, MaxQueuedBytes: 64 << 10})
		opened := make(chan *engine.Conn, 1)
		closed := make(chan error, 1)
		url := serve(t, e, func() engine.Handler {
			return funcs{open: func(c *engine.Conn) { opened <- c }, close: func(_ *engine.Conn, err error) { closed <- err }}
		})
		cl, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		c := <-opened
		f := frame.New(ws.OpBinary, make([]byte, 16<<10))
		deadline := time.Now().Add(10 * time.Second)
		for c.WriteFrame(f) == nil {
			if time.Now().After(deadline) {
				t.Fatal("a peer that never reads was not closed as a slow consumer")
			}
		}
		select {
		case err := <-closed:
			if !errors.Is(err, engine.ErrSlowConsumer) {
				t.Fatalf("OnClose: %v, want ErrSlowConsumer", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no OnClose after the slow consumer")
		}
	})
}
