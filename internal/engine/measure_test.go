//go:build linux

package engine_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgate/wsgate"
)

// TestMeasure prints the figures the epoll engine is judged by: server
// RSS growth per idle connection at 1k, 10k and 19k connections, and
// server CPU per echoed message, for wsgate's /echo on each engine and
// for a gorilla/websocket echo server (one goroutine per connection, the
// usual Go server). Clients run in a child process, so neither their
// sockets nor their CPU count. It runs only with WSGATE_MEASURE=1; run one
// subtest per process for clean figures:
//
//	WSGATE_MEASURE=1 go test -run 'TestMeasure/epoll/19000' -v ./internal/engine
func TestMeasure(t *testing.T) {
	if os.Getenv("WSGATE_MEASURE") != "1" {
		t.Skip("set WSGATE_MEASURE=1 to measure")
	}
	for _, server := range []string{"goroutine", "epoll", "gorilla"} {
		t.Run(server, func(t *testing.T) {
			for _, n := range []int{1000, 10000, 19000} {
				t.Run(strconv.Itoa(n), func(t *testing.T) { measure(t, server, n) })
			}
		})
	}
}

func measure(t *testing.T, server string, n int) {
	url, conns, stop := measuredServer(t, server)
	defer stop()
	warm := startChild(t, url, 10)
	warm.do("echo 10 10 64")
	warm.stop()
	waitFor(t, func() bool { return conns() == 0 })
	base := rssAfterGC()

	c := startChild(t, url, n)
	deadline := time.Now().Add(30 * time.Second)
	for conns() != n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if conns() != n {
		t.Fatalf("%d connections, want %d", conns(), n)
	}
	time.Sleep(200 * time.Millisecond)
	rss := rssAfterGC()
	t.Logf("%s: %d idle connections: RSS %+d KiB, %.0f bytes per connection (heap in use %d KiB)",
		server, n, (rss-base)>>10, float64(rss-base)/float64(n), heapInUse()>>10)

	// Echo: 200 connections, 500 round trips of 64 bytes each, three runs,
	// profiled into $WSGATE_MEASURE_CPUPROFILE when set.
	if path := os.Getenv("WSGATE_MEASURE_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	for run := range 3 {
		cpu0, wall0 := cpuNanos(), time.Now()
		got := strings.Fields(c.do("echo 200 500 64"))
		cpu, wall := cpuNanos()-cpu0, time.Since(wall0)
		msgs, _ := strconv.Atoi(got[1])
		clientCPU, _ := strconv.ParseInt(got[2], 10, 64)
		t.Logf("%s: echo run %d with %d connections open: %d messages in %v; server CPU %.2f µs/msg = %.0f msgs per CPU-second; client CPU %.2f µs/msg",
			server, run, n, msgs, wall.Round(time.Millisecond), float64(cpu)/1e3/float64(msgs), float64(msgs)/(float64(cpu)/1e9),
			float64(clientCPU)/1e3/float64(msgs))
	}
}

// measuredServer starts the named echo server and returns its URL, a
// count of its open connections and a stop function.
func measuredServer(t *testing.T, server string) (string, func() int, func()) {
	var h http.Handler
	var conns func() int
	var stop func()
	switch server {
	case "goroutine", "epoll":
		var k wsgate.EngineKind
		k.UnmarshalText([]byte(server))
		srv, err := wsgate.New(wsgate.Config{Engine: k, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		h, conns = srv.Handler(), srv.Conns
		stop = func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
		}
	case "gorilla":
		var n atomic.Int64
		var up websocket.Upgrader
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			n.Add(1)
			defer n.Add(-1)
			defer c.Close()
			for {
				op, p, err := c.ReadMessage()
				if err != nil {
					return
				}
				if c.WriteMessage(op, p) != nil {
					return
				}
			}
		})
		conns = func() int { return int(n.Load()) }
		stop = func() {}
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	ts := httptest.NewServer(mux)
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/echo"
	return url, conns, func() {
		stop()
		ts.CloseClientConnections()
		ts.Close()
	}
}

// rssAfterGC collects garbage, returns freed memory to the system and
// reads VmRSS, in bytes.
func rssAfterGC() int64 {
	for range gcRounds() {
		runtime.GC()
	}
	debug.FreeOSMemory()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// gcRounds is how many collections rssAfterGC runs: WSGATE_MEASURE_GCS,
// default 1. Each collection may halve the stack of a goroutine that uses
// little of it, so more rounds show what a long-running server settles at.
func gcRounds() int {
	if n, err := strconv.Atoi(os.Getenv("WSGATE_MEASURE_GCS")); err == nil && n > 0 {
		return n
	}
	return 1
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
