package measuretest

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

// Require skips t unless WSGATE_MEASURE=1.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv("WSGATE_MEASURE") != "1" {
		t.Skip("set WSGATE_MEASURE=1 to measure")
	}
}

// N is WSGATE_MEASURE_N when it is a positive number, else def.
func N(def int) int { return positive("WSGATE_MEASURE_N", def) }

// Size is WSGATE_MEASURE_SIZE when it is a positive number, else def.
func Size(def int) int { return positive("WSGATE_MEASURE_SIZE", def) }

func positive(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// RSSAfterGC collects garbage, returns freed memory to the system and
// reads VmRSS, in bytes (0 where /proc/self/status is missing). It runs
// WSGATE_MEASURE_GCS collections, default 1: each may halve the stack of
// a goroutine that uses little of it, so more rounds show what a
// long-running server settles at.
func RSSAfterGC() int64 {
	for range positive("WSGATE_MEASURE_GCS", 1) {
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

// HeapInUse is the heap in use now, in bytes, without collecting.
func HeapInUse() uint64 { return memStats().HeapInuse }

// StackInUse is the memory goroutine stacks hold now, in bytes.
func StackInUse() uint64 { return memStats().StackInuse }

// LiveHeap returns the heap in use after two collections (the second one
// empties sync.Pools, whose victims survive the first), in bytes.
func LiveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	return HeapInUse()
}

func memStats() *runtime.MemStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return &ms
}

// StartCPUProfile profiles this process into the file
// WSGATE_MEASURE_CPUPROFILE names, when it is set, until stop is called.
func StartCPUProfile(t testing.TB) (stop func()) {
	t.Helper()
	path := os.Getenv("WSGATE_MEASURE_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		t.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// Server starts the named echo server on /echo: "goroutine", "epoll" or "uring"
// (wsgate's /echo on that engine) or "gorilla" (a gorilla/websocket echo
// server, one goroutine per connection, the usual Go server). It returns
// the WebSocket URL, a count of open connections and a stop function.
func Server(t testing.TB, server string) (url string, conns func() int, stop func()) {
	t.Helper()
	var h http.Handler
	stopServer := func() {}
	switch server {
	case "goroutine", "epoll", "uring":
		var k wsgate.EngineKind
		if err := k.UnmarshalText([]byte(server)); err != nil {
			t.Fatal(err)
		}
		if !k.Supported() {
			t.Skipf("engine %s is not supported here", server)
		}
		srv, err := wsgate.New(wsgate.Config{Engine: k, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		h, conns = srv.Handler(), srv.Conns
		stopServer = func() {
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
	default:
		t.Fatalf("measuretest: no server %q", server)
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	ts := httptest.NewServer(mux)
	url = "ws" + strings.TrimPrefix(ts.URL, "http") + "/echo"
	return url, conns, func() {
		stopServer()
		ts.CloseClientConnections()
		ts.Close()
	}
}
