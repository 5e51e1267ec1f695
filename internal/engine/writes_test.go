package engine_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/internal/frame"
	"github.com/wsgate/wsgate/ws"
)

// TestLargeWritesThroughSlowReader has three goroutines write messages of
// up to 3 MiB, copied and shared, about 19 MiB in all, to a peer that
// reads slowly through a small receive buffer, so that writes stop part-way through frames and
// resume when the socket drains: nothing is lost, reordered or corrupted.
func TestLargeWritesThroughSlowReader(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		e := engine.New(engine.Options{Kind: kind, MaxQueuedBytes: 256 << 20})
		opened := make(chan *engine.Conn, 1)
		url := serve(t, e, func() engine.Handler { return funcs{open: func(c *engine.Conn) { opened <- c }} })
		d := websocket.Dialer{ReadBufferSize: 4096, NetDial: func(network, addr string) (net.Conn, error) {
			nc, err := net.Dial(network, addr)
			if err == nil {
				nc.(*net.TCPConn).SetReadBuffer(64 << 10)
			}
			return nc, err
		}}
		cl, _, err := d.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		cl.SetReadLimit(16 << 20)
		c := <-opened

		sizes := []int{5, 3 << 20, 70000, 6, 125, 126, 1 << 20, 65536, 2<<20 + 3, 17}
		const writers = 3
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i, size := range sizes {
					msg := pattern(w, i, size)
					var err error
					switch i % 2 {
					case 0:
						err = c.WriteFrame(frame.New(ws.OpBinary, msg))
					default:
						err = c.WriteMessage(ws.OpBinary, msg)
						clear(msg) // the engine must have copied what it kept
					}
					if err != nil {
						t.Errorf("writer %d message %d: %v", w, i, err)
						return
					}
				}
			}()
		}
		next := make([]int, writers)
		for n := 0; n < writers*len(sizes); n++ {
			cl.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, b, err := cl.ReadMessage()
			if err != nil {
				t.Fatalf("read %d: %v", n, err)
			}
			w, i := decodePattern(b)
			if w < 0 || w >= writers || i != next[w] || !bytes.Equal(b, pattern(w, i, sizes[i])) {
				t.Fatalf("read %d: %d bytes, writer %d message %d; want message %d", n, len(b), w, i, next[w])
			}
			next[w]++
			if n%5 == 0 {
				time.Sleep(5 * time.Millisecond) // a slow reader
			}
		}
		wg.Wait()
	})
}

// pattern is message i of writer w, at least 5 bytes: a header naming
// both, then bytes that depend on their position.
func pattern(w, i, size int) []byte {
	b := make([]byte, size)
	for k := range b {
		b[k] = byte(k*7 + w*31 + i)
	}
	b[0] = byte(w)
	binary.BigEndian.PutUint32(b[1:], uint32(i))
	return b
}

func decodePattern(b []byte) (w, i int) {
	if len(b) < 5 {
		return -1, -1
	}
	return int(b[0]), int(binary.BigEndian.Uint32(b[1:]))
}

// TestBytesBehindTheHandshake sends a frame in the same write as the
// opening handshake, so it lands in net/http's buffer, not the socket:
// the engine must consume it before it waits on the socket.
func TestBytesBehindTheHandshake(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		e := engine.New(engine.Options{Kind: kind})
		url := serve(t, e, echo)
		addr := strings.TrimPrefix(url, "ws://")
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
		key := ws.NewMaskKey()
		out := []byte(req)
		out = ws.AppendMaskedFrame(out, ws.OpText, true, 0, key, []byte("early"))
		out = ws.AppendMaskedFrame(out, ws.OpPing, true, 0, key, []byte("p"))
		if _, err := nc.Write(out); err != nil {
			t.Fatal(err)
		}
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(nc)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("handshake: %v %v", resp, err)
		}
		r := ws.NewReader(ws.ReaderOptions{Role: ws.ClientSide})
		var got []string
		buf := make([]byte, 512)
		for len(got) < 2 {
			n, err := br.Read(buf)
			if err != nil && err != io.EOF {
				t.Fatalf("read: %v (got %q)", err, got)
			}
			for b := buf[:n]; len(b) > 0; {
				used, ev, err := r.Next(b)
				if err != nil {
					t.Fatal(err)
				}
				b = b[used:]
				if ev.Kind != ws.EventNone {
					got = append(got, fmt.Sprintf("%v %s", ev.Kind, ev.Payload))
				}
			}
		}
		// The goroutine engine sends pongs ahead of queued data.
		slices.Sort(got)
		if want := "Message early|Pong p"; strings.Join(got, "|") != want {
			t.Errorf("got %q, want %q", strings.Join(got, "|"), want)
		}
	})
}
