//go:build linux

package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/sys/unix"

	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/internal/uring"
)

// TestUringFaults runs echo traffic through io_uring loops whose I/O is
// disturbed: recvs that end with -ECANCELED or -EAGAIN and must be armed
// again, a buffer ring too small for what arrives (-ENOBUFS), a
// completion queue that overflows, and write requests that send a few
// bytes at a time (short writes). Every message must come back whole and
// in order, and the descriptors go back to where they started.
func TestUringFaults(t *testing.T) {
	if !engine.Uring.Supported() {
		t.Skip("the kernel refuses io_uring_setup")
	}
	tests := []struct {
		name   string
		faults engine.UringFaults
		conns  int
		check  func(engine.UringSeen) error
	}{
		{name: "recv ends with ECANCELED", faults: engine.UringFaults{CancelRecv: true}, conns: 8},
		{name: "recv ends with EAGAIN", faults: engine.UringFaults{CancelRecv: true, CanceledAs: -int32(unix.EAGAIN)}, conns: 8},
		{name: "buffer ring runs out", faults: engine.UringFaults{BufCount: 2, BufSize: 512}, conns: 8,
			check: func(s engine.UringSeen) error {
				if s.NoBufs == 0 {
					return fmt.Errorf("no recv ended with ENOBUFS")
				}
				return nil
			}},
		{name: "short writes", faults: engine.UringFaults{MaxWrite: 7}, conns: 4},
		{name: "completion queue overflows", faults: engine.UringFaults{SQEntries: 2, CQEntries: 4, BufCount: 64, BufSize: 512}, conns: 64,
			check: func(s engine.UringSeen) error {
				if s.Overflows == 0 {
					return fmt.Errorf("the completion queue never overflowed")
				}
				return nil
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := engine.New(engine.Options{Kind: engine.Uring})
			seen := engine.SetUringFaults(e, tt.faults)
			url := serve(t, e, echo)
			echoAll(t, url, 1) // starts the loops: their rings stay open
			waitFor(t, func() bool { return e.Len() == 0 })
			fds := openFDs(t)
			echoAll(t, url, tt.conns)
			waitFor(t, func() bool { return e.Len() == 0 })
			if tt.check != nil {
				if err := tt.check(seen()); err != nil {
					t.Error(err)
				}
			}
			deadline := time.Now().Add(5 * time.Second)
			for openFDs(t) > fds && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := openFDs(t); n > fds {
				t.Errorf("%d descriptors open, %d before: %v", n, fds, fdNames())
			}
		})
	}
}

// echoAll has conns clients each send messages of many sizes, all of
// them before reading, and checks the echoes.
func echoAll(t *testing.T, url string, conns int) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				t.Error(err)
				return
			}
			defer cl.Close()
			var want [][]byte
			for j := range 40 {
				msg := bytes.Repeat([]byte{byte(i + j)}, 1+(j*7919+i*13)%5000)
				want = append(want, msg)
				if err := cl.WriteMessage(websocket.BinaryMessage, msg); err != nil {
					t.Error(err)
					return
				}
			}
			for j, w := range want {
				cl.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, b, err := cl.ReadMessage()
				if err != nil || !bytes.Equal(b, w) {
					t.Errorf("conn %d message %d: %d bytes, %v; want %d bytes", i, j, len(b), err, len(w))
					return
				}
			}
			cl.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			cl.SetReadDeadline(time.Now().Add(5 * time.Second))
			for {
				if _, _, err := cl.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestUringRefusedFallsBack: a kernel that refuses the loops' ring (here
// the seam's Setup) gets epoll loops instead, and one log line.
func TestUringRefusedFallsBack(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	e := engine.New(engine.Options{Kind: engine.Uring, Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))})
	engine.SetUringFaults(e, engine.UringFaults{Setup: func(uint32, uring.Options) (*uring.Ring, error) {
		return nil, fmt.Errorf("test: %w", uring.ErrUnsupported)
	}})
	url := serve(t, e, echo)
	echoAll(t, url, 4)
	if k := e.Kind(); k != engine.Epoll {
		t.Errorf("Kind() is %v after the fallback, want epoll", k)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e.Shutdown(ctx, 1001, "")
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logs.String(), "\n"); n != 1 || !strings.Contains(logs.String(), "using epoll") {
		t.Errorf("logged %d lines, want one saying it uses epoll:\n%s", n, logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func fdNames() []string {
	ents, _ := os.ReadDir("/proc/self/fd")
	var names []string
	for _, e := range ents {
		l, _ := os.Readlink("/proc/self/fd/" + e.Name())
		names = append(names, e.Name()+"->"+l)
	}
	return names
}
