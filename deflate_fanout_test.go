package wsgate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgate/wsgate"
)

// dialDeflate opens a gorilla/websocket connection offering
// permessage-deflate (no context takeover) and fails unless the server
// accepted it.
func dialDeflate(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{EnableCompression: true}
	c, resp, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	if got := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(got, "permessage-deflate") {
		t.Fatalf("Sec-WebSocket-Extensions %q, want permessage-deflate", got)
	}
	return c
}

// jsonDocument is a valid JSON price history of about n bytes.
func jsonDocument(n int) []byte {
	b := []byte(`{"symbol":"ACME","points":[`)
	for i := 0; len(b) < n-2; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"t":%d,"p":%d.%02d}`, 1700000000+i*60, 100+i%37, i%100)
	}
	return append(b, "]}"...)
}

// TestDeflateFanOut publishes one 4 KB JSON document to 100 subscribers
// that negotiated compression: the server compresses it once and sends
// the same compressed frame 100 times, and every subscriber decodes the
// same message. The counters come from Stats.
func TestDeflateFanOut(t *testing.T) {
	t.Parallel()
	const subscribers = 100
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, url := startServer(t, wsgate.Config{Engine: eng})
		conns := make([]*websocket.Conn, subscribers)
		for i := range conns {
			conns[i] = dialDeflate(t, url+"/ws")
			if r := request(t, conns[i], `{"id":1,"sub":"prices"}`); r.Error != nil {
				t.Fatalf("sub: %+v", r.Error)
			}
		}
		data := jsonDocument(4 << 10)
		if !json.Valid(data) {
			t.Fatalf("test data is not JSON: %.80s…", data)
		}
		before := srv.Stats().Compression
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := srv.Publish(ctx, "prices", json.RawMessage(data)); err != nil {
			t.Fatal(err)
		}
		var first []byte
		for i, c := range conns {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, b, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("subscriber %d: %v", i, err)
			}
			var r reply
			if err := json.Unmarshal(b, &r); err != nil || r.Ch != "prices" || !bytes.Equal(r.Data, data) {
				t.Fatalf("subscriber %d got %.80q… (err %v), want the publication", i, b, err)
			}
			if first == nil {
				first = b
			} else if !bytes.Equal(b, first) {
				t.Fatalf("subscriber %d got another message than subscriber 0", i)
			}
		}
		after := srv.Stats().Compression
		for _, c := range []struct {
			name      string
			got, want uint64
		}{
			{"Compressions", after.Compressions - before.Compressions, 1},
			{"Compressed", after.Compressed - before.Compressed, 1},
			{"FramesDeflated", after.FramesDeflated - before.FramesDeflated, subscribers},
			{"FramesPlain", after.FramesPlain - before.FramesPlain, 0},
		} {
			if c.got != c.want {
				t.Errorf("%s went up by %d, want %d", c.name, c.got, c.want)
			}
		}
		in := float64(after.BytesIn - before.BytesIn)
		out := float64(after.BytesOut - before.BytesOut)
		if in < float64(len(data)) || out <= 0 || out >= in/2 {
			t.Errorf("compressed %v bytes into %v, want the %d-byte publication to shrink by more than half", in, out, len(data))
		}
		t.Logf("one publication of %v bytes compressed once to %v bytes (%.1f%%), sent to %d subscribers", in, out, 100*out/in, subscribers)
	})
}

// TestDeflateCallReply checks that a call's reply, written for one
// connection, goes out compressed when the connection negotiated
// deflate and plain when it did not.
func TestDeflateCallReply(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, url := startServer(t, wsgate.Config{Engine: eng})
		doc := jsonDocument(4 << 10)
		srv.Handle("history", func(context.Context, json.RawMessage) (any, error) {
			return json.RawMessage(doc), nil
		})
		for _, deflate := range []bool{true, false} {
			var c *websocket.Conn
			if deflate {
				c = dialDeflate(t, url+"/ws")
			} else {
				c = dial(t, url+"/ws")
			}
			before := srv.Stats().Compression
			r := request(t, c, `{"id":1,"call":"history"}`)
			if r.Error != nil || !bytes.Equal(r.Result, doc) {
				t.Fatalf("deflate=%v: reply %+v, want the %d-byte document", deflate, r.Error, len(doc))
			}
			after := srv.Stats().Compression
			d := after.FramesDeflated - before.FramesDeflated
			p := after.FramesPlain - before.FramesPlain
			if want := map[bool]uint64{true: 1, false: 0}[deflate]; d != want || p != 1-want {
				t.Errorf("deflate=%v: %v frames sent compressed and %v plain, want %v and %v", deflate, d, p, want, 1-want)
			}
		}
	})
}
