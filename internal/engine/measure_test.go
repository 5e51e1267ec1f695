//go:build linux

package engine_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/measuretest"
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
	measuretest.Require(t)
	for _, server := range []string{"goroutine", "epoll", "uring", "gorilla"} {
		t.Run(server, func(t *testing.T) {
			for _, n := range []int{1000, 10000, 19000} {
				t.Run(strconv.Itoa(n), func(t *testing.T) { measure(t, server, n) })
			}
		})
	}
}

func measure(t *testing.T, server string, n int) {
	url, conns, stop := measuretest.Server(t, server)
	defer stop()
	warm := startChild(t, url, 10)
	warm.do("echo 10 10 64")
	warm.stop()
	waitFor(t, func() bool { return conns() == 0 })
	base := measuretest.RSSAfterGC()

	c := startChild(t, url, n)
	deadline := time.Now().Add(30 * time.Second)
	for conns() != n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if conns() != n {
		t.Fatalf("%d connections, want %d", conns(), n)
	}
	time.Sleep(200 * time.Millisecond)
	rss := measuretest.RSSAfterGC()
	t.Logf("%s: %d idle connections: RSS %+d KiB, %.0f bytes per connection (heap in use %d KiB)",
		server, n, (rss-base)>>10, float64(rss-base)/float64(n), measuretest.HeapInUse()>>10)

	// Echo: 200 connections, 500 round trips of 64 bytes each, three runs,
	// profiled into $WSGATE_MEASURE_CPUPROFILE when set.
	defer measuretest.StartCPUProfile(t)()
	for run := range 3 {
		cpu0, wall0 := measuretest.CPUNanos(), time.Now()
		got := strings.Fields(c.do("echo 200 500 64"))
		cpu, wall := measuretest.CPUNanos()-cpu0, time.Since(wall0)
		msgs, _ := strconv.Atoi(got[1])
		clientCPU, _ := strconv.ParseInt(got[2], 10, 64)
		t.Logf("%s: echo run %d with %d connections open: %d messages in %v; server CPU %.2f µs/msg = %.0f msgs per CPU-second; client CPU %.2f µs/msg",
			server, run, n, msgs, wall.Round(time.Millisecond), float64(cpu)/1e3/float64(msgs), float64(msgs)/(float64(cpu)/1e9),
			float64(clientCPU)/1e3/float64(msgs))
	}
}
