package wsgate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/internal/promtext"
)

// metricValues scrapes /metrics of the server at url (ws://…) and returns
// every sample by its name and labels as printed, such as
// `wsgate_frames_sent_total{encoding="deflate"}`.
func metricValues(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http" + strings.TrimPrefix(url, "ws") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	vals, err := promtext.Parse(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return vals
}

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
// same message. The counters come from /metrics.
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
		before := metricValues(t, url)
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
		after := metricValues(t, url)
		for name, want := range map[string]float64{
			`wsgate_compressions_total`:                    1,
			`wsgate_compressions_used_total`:               1,
			`wsgate_frames_sent_total{encoding="deflate"}`: subscribers,
			`wsgate_frames_sent_total{encoding="plain"}`:   0,
		} {
			if got := after[name] - before[name]; got != want {
				t.Errorf("%s went up by %v, want %v", name, got, want)
			}
		}
		in := after["wsgate_compression_bytes_in_total"] - before["wsgate_compression_bytes_in_total"]
		out := after["wsgate_compression_bytes_out_total"] - before["wsgate_compression_bytes_out_total"]
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
			before := metricValues(t, url)
			r := request(t, c, `{"id":1,"call":"history"}`)
			if r.Error != nil || !bytes.Equal(r.Result, doc) {
				t.Fatalf("deflate=%v: reply %+v, want the %d-byte document", deflate, r.Error, len(doc))
			}
			after := metricValues(t, url)
			d := after[`wsgate_frames_sent_total{encoding="deflate"}`] - before[`wsgate_frames_sent_total{encoding="deflate"}`]
			p := after[`wsgate_frames_sent_total{encoding="plain"}`] - before[`wsgate_frames_sent_total{encoding="plain"}`]
			if want := map[bool]float64{true: 1, false: 0}[deflate]; d != want || p != 1-want {
				t.Errorf("deflate=%v: %v frames sent compressed and %v plain, want %v and %v", deflate, d, p, want, 1-want)
			}
		}
	})
}
