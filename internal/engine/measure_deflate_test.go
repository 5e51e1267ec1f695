//go:build linux

package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/internal/measuretest"
	"github.com/wsgate/wsgate/internal/promtext"
	"github.com/wsgate/wsgate/metrics"
)

// TestMeasureDeflate prints what permessage-deflate costs and saves, for
// each engine, with clients that offer it and clients that do not:
//
//   - server RSS growth per idle connection after every connection
//     exchanged one 1 KiB message (compressed both ways with deflate);
//   - one 4 KB JSON publication fanned out to every connection on /ws:
//     compressions made, server CPU and payload bytes on the wire.
//
// Clients run in a child process. It runs only with WSGATE_MEASURE=1;
// WSGATE_MEASURE_N sets the connection count (default 10000):
//
//	WSGATE_MEASURE=1 go test -run 'TestMeasureDeflate/epoll/deflate' -v ./internal/engine
func TestMeasureDeflate(t *testing.T) {
	measuretest.Require(t)
	n := measuretest.N(10000)
	for _, server := range []string{"epoll", "goroutine"} {
		for _, mode := range []string{"plain", "deflate"} {
			t.Run(server+"/"+mode, func(t *testing.T) {
				t.Run("memory", func(t *testing.T) { measureDeflateMemory(t, server, mode, n) })
				t.Run("fanout", func(t *testing.T) { measureDeflateFanOut(t, server, mode, n) })
			})
		}
	}
}

// childFor starts a child of mode "plain" or "deflate".
func childFor(t *testing.T, mode, url string, n int) *child {
	if mode == "deflate" {
		return startDeflateChild(t, url, n)
	}
	return startChild(t, url, n)
}

func measureDeflateMemory(t *testing.T, server, mode string, n int) {
	url, conns, stop := measuretest.Server(t, server)
	defer stop()
	size := strconv.Itoa(measuretest.Size(1024))
	warm := childFor(t, mode, url, 10)
	warm.do("once " + size)
	warm.stop()
	waitFor(t, func() bool { return conns() == 0 })
	base := measuretest.RSSAfterGC()

	c := childFor(t, mode, url, n)
	deadline := time.Now().Add(30 * time.Second)
	for conns() != n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := c.do("once " + size); got != "once "+strconv.Itoa(n) {
		t.Fatalf("child: %q, want every connection to have exchanged a message", got)
	}
	time.Sleep(200 * time.Millisecond)
	rss := measuretest.RSSAfterGC()
	t.Logf("%s/%s: %d idle connections after one %s-byte message each: RSS %+d KiB, %.0f bytes per connection (heap in use %d KiB, stacks %d KiB)",
		server, mode, n, size, (rss-base)>>10, float64(rss-base)/float64(n), measuretest.HeapInUse()>>10, measuretest.StackInUse()>>10)
	c.stop()
}

func measureDeflateFanOut(t *testing.T, server, mode string, n int) {
	var k wsgate.EngineKind
	k.UnmarshalText([]byte(server))
	srv, err := wsgate.New(wsgate.Config{Engine: k, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		ts.CloseClientConnections()
		ts.Close()
	}()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
	c := childFor(t, mode, url, n)
	if got := c.do("sub prices"); got != "sub "+strconv.Itoa(n) {
		t.Fatalf("child: %q, want %d subscriptions", got, n)
	}
	doc := priceDocument(4 << 10)
	for run := range 3 {
		before := scrapeMetrics(t, srv)
		cpu0, wall0 := measuretest.CPUNanos(), time.Now()
		if _, err := srv.Publish(context.Background(), "prices", json.RawMessage(doc)); err != nil {
			t.Fatal(err)
		}
		got := strings.Fields(c.do("recv"))
		cpu, wall := measuretest.CPUNanos()-cpu0, time.Since(wall0)
		after := scrapeMetrics(t, srv)
		wire, _ := strconv.ParseInt(got[2], 10, 64)
		t.Logf("%s/%s: run %d: one %d-byte publication to %s subscribers in %v: server CPU %.2f ms (%.2f µs per subscriber), compressions %+.0f, frames compressed %+.0f plain %+.0f, payload %d bytes per subscriber",
			server, mode, run, len(doc), got[1], wall.Round(time.Millisecond), float64(cpu)/1e6, float64(cpu)/1e3/float64(n),
			after["wsgate_compressions_total"]-before["wsgate_compressions_total"],
			after[`wsgate_frames_sent_total{encoding="deflate"}`]-before[`wsgate_frames_sent_total{encoding="deflate"}`],
			after[`wsgate_frames_sent_total{encoding="plain"}`]-before[`wsgate_frames_sent_total{encoding="plain"}`],
			wire/int64(n))
	}
	c.stop()
}

// priceDocument is a valid JSON price history of about n bytes.
func priceDocument(n int) []byte {
	b := []byte(`{"symbol":"ACME","points":[`)
	for i := 0; len(b) < n-2; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"t":%d,"p":%d.%02d}`, 1700000000+i*60, 100+i%37, i%100)
	}
	return append(b, "]}"...)
}

// scrapeMetrics reads srv's /metrics samples by name and labels.
func scrapeMetrics(t *testing.T, srv *wsgate.Server) map[string]float64 {
	rec := httptest.NewRecorder()
	metrics.Handler(srv).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	vals, err := promtext.Parse(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return vals
}
