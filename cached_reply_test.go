package wsgate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/ws"
)

// cachedServer serves a cached method "big" whose result is a JSON
// history of about size bytes, and counts its runs.
func cachedServer(t *testing.T, eng wsgate.EngineKind, size int) (srv *wsgate.Server, url string, runs *atomic.Int64, result []byte) {
	t.Helper()
	srv, url = startServer(t, wsgate.Config{Engine: eng})
	result = jsonArray(size)
	runs = new(atomic.Int64)
	srv.Handle("big", func(context.Context, json.RawMessage) (any, error) {
		runs.Add(1)
		return json.RawMessage(result), nil
	}, wsgate.CacheFor(time.Hour))
	return srv, url + "/ws", runs, result
}

// jsonArray is a JSON array of about n bytes (at least 2).
func jsonArray(n int) []byte {
	b := []byte{'['}
	for i := 0; len(b) < n-1; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"t":%d,"p":%d.%02d}`, 1700000000+i*60, 100+i%37, i%100)
	}
	return append(b, ']')
}

// TestCachedReplyDeflated calls a cached method again and again over
// permessage-deflate and reads the replies with the standard library's
// inflater: every hit goes out compressed, the result is compressed once
// for all of them, and each reply carries its own id.
func TestCachedReplyDeflated(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, url, runs, result := cachedServer(t, eng, 4096)
		p := deflateDial(t, url)
		before := srv.Stats().Compression
		for i := range 5 {
			id := fmt.Sprintf(`"call-%d"`, i)
			p.write(text(`{"id":` + id + `,"call":"big"}`))
			op, msg, compressed := p.readMessage()
			want := `{"id":` + id + `,"result":` + string(result) + `}`
			if op != ws.OpText || string(msg) != want {
				t.Fatalf("call %d: got %.80q… (%d bytes), want %.80q… (%d bytes)", i, msg, len(msg), want, len(want))
			}
			if !compressed {
				t.Fatalf("call %d: reply sent plain", i)
			}
		}
		after := srv.Stats().Compression
		if n := runs.Load(); n != 1 {
			t.Errorf("handler ran %d times, want 1", n)
		}
		// The miss compresses its reply, the first hit the result; the
		// other three hits compress nothing.
		if d := after.Compressions - before.Compressions; d != 2 {
			t.Errorf("%v compressions for 5 calls, want 2", d)
		}
	})
}

// TestCachedReplyInterop reads cached replies with gorilla/websocket's
// inflater, with and without compression, results under and over the
// threshold, and pipelined calls.
func TestCachedReplyInterop(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		for _, size := range []int{40, 4096, 30_000} {
			for _, compress := range []bool{false, true} {
				_, url, _, result := cachedServer(t, eng, size)
				d := websocket.Dialer{EnableCompression: compress}
				c, _, err := d.Dial(url, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.SetReadLimit(1 << 20)
				const calls = 20
				for i := range calls {
					send(t, c, fmt.Sprintf(`{"id":%d,"call":"big"}`, i))
					if i == 0 {
						next(t, c) // the miss: later calls are hits
					}
				}
				for i := 1; i < calls; i++ {
					r := next(t, c)
					if string(r.ID) != fmt.Sprint(i) || !bytes.Equal(r.Result, result) {
						t.Fatalf("size %d compress %v: reply %s has %d bytes of result, want id %d and %d bytes", size, compress, r.ID, len(r.Result), i, len(result))
					}
				}
			}
		}
	})
}
