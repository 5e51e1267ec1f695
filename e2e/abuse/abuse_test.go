//go:build linux

package abuse

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate/ws"
)

// server is a wsgate process under attack.
type server struct {
	pid  int
	addr string
}

// start runs the binary under test on a free loopback port with args and
// stops it when the test ends.
func start(t *testing.T, args ...string) *server {
	t.Helper()
	if os.Getenv("WSGATE_ABUSE") != "1" {
		t.Skip("attacks run with WSGATE_ABUSE=1 (make abuse)")
	}
	bin := os.Getenv("WSGATE_ABUSE_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "wsgate")
		out, err := exec.Command("go", "build", "-o", bin, "github.com/wsgate/wsgate/cmd/wsgate").CombinedOutput()
		if err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, append([]string{"--listen", addr, "--log-level", "error"}, args...)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server did not answer /healthz")
		}
	}
	return &server{pid: cmd.Process.Pid, addr: addr}
}

// proc is what /proc says of the server.
type proc struct {
	rss   int64         // resident memory, bytes
	fds   int           // open files
	cpu   time.Duration // user + system time
	alive bool
}

func (s *server) proc() proc {
	var p proc
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return p
	}
	p.alive = true
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			p.rss = kb << 10
		}
	}
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.pid)); err == nil {
		p.fds = len(fds)
	}
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid)); err == nil {
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		p.cpu = time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ 100
	}
	return p
}

// watch samples the server every 100 ms until stop is closed and returns
// the largest RSS and open-file count seen.
func (s *server) watch(stop <-chan struct{}) <-chan proc {
	out := make(chan proc, 1)
	go func() {
		var most proc
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			p := s.proc()
			most.rss, most.fds = max(most.rss, p.rss), max(most.fds, p.fds)
			select {
			case <-stop:
				most.alive, most.cpu = p.alive, p.cpu
				out <- most
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// probe is a well-behaved client: it echoes a small message every 20 ms
// and records each round trip, until stop is closed.
func (s *server) probe(t *testing.T, stop <-chan struct{}) <-chan []time.Duration {
	out := make(chan []time.Duration, 1)
	nc, br, _, err := ws.Dial(context.Background(), "ws://"+s.addr+"/echo", ws.DialOptions{})
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	go func() {
		defer nc.Close()
		var rtts []time.Duration
		r := ws.NewReader(ws.ReaderOptions{Role: ws.ClientSide})
		buf := make([]byte, 4096)
		key := ws.NewMaskKey()
		for {
			select {
			case <-stop:
				out <- rtts
				return
			case <-time.After(20 * time.Millisecond):
			}
			sent := time.Now()
			nc.SetDeadline(sent.Add(5 * time.Second))
			if _, err := nc.Write(ws.AppendMaskedFrame(nil, ws.OpText, true, 0, key, []byte("probe"))); err != nil {
				rtts = append(rtts, time.Hour) // a failed probe counts as lost
				continue
			}
			got := false
			for !got {
				n, err := br.Read(buf)
				if err != nil {
					rtts = append(rtts, time.Hour)
					out <- rtts
					return
				}
				for b := buf[:n]; len(b) > 0; {
					k, ev, err := r.Next(b)
					if err != nil {
						break
					}
					b = b[k:]
					got = got || ev.Kind == ws.EventMessage
				}
			}
			rtts = append(rtts, time.Since(sent))
		}
	}()
	return out
}

func p99(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[(len(d)*99)/100]
}

func floodFor() time.Duration {
	if s, err := strconv.Atoi(os.Getenv("WSGATE_ABUSE_SECONDS")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 10 * time.Second
}

// report logs one attack's line of the before-and-after table.
func report(t *testing.T, attack string, p proc, rtts []time.Duration, extra string) {
	t.Helper()
	t.Logf("ABUSE | %s | peak RSS %d MB | peak fds %d | CPU %v | probe p99 %v (%d probes) | server alive %v | %s",
		attack, p.rss>>20, p.fds, p.cpu.Round(10*time.Millisecond), p99(rtts).Round(time.Microsecond), len(rtts), p.alive, extra)
}

// TestPingFlood: one client sends empty pings as fast as it can and
// never reads.
func TestPingFlood(t *testing.T) {
	s := start(t)
	stop := make(chan struct{})
	most, probes := s.watch(stop), s.probe(t, stop)
	nc, _, _, err := ws.Dial(context.Background(), "ws://"+s.addr+"/echo", ws.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	w := bufio.NewWriterSize(nc, 64<<10)
	key := ws.NewMaskKey()
	ping := ws.AppendMaskedFrame(nil, ws.OpPing, true, 0, key, nil)
	sent := 0
	for end := time.Now().Add(floodFor()); time.Now().Before(end); {
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		for range 4096 {
			w.Write(ping)
		}
		if w.Flush() != nil {
			break // the server stopped reading or closed
		}
		sent += 4096
	}
	close(stop)
	p := <-most
	report(t, "ping flood, client never reads", p, <-probes, fmt.Sprintf("%d pings sent (%d MB)", sent, sent*len(ping)>>20))
	if p.rss > 512<<20 {
		t.Errorf("server RSS reached %d MB", p.rss>>20)
	}
}

// TestIdleKeepAlive: thousands of HTTP keep-alive connections make one
// request each and then sit idle; /healthz must still answer.
func TestIdleKeepAlive(t *testing.T) {
	s := start(t)
	n := 15_000
	if v, err := strconv.Atoi(os.Getenv("WSGATE_ABUSE_CONNS")); err == nil && v > 0 {
		n = v
	}
	stop := make(chan struct{})
	most := s.watch(stop)
	var mu sync.Mutex
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	failed := 0
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%8))}}).Dial("tcp", s.addr)
			if err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
				return
			}
			io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			http.ReadResponse(bufio.NewReader(c), nil)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		})
	}
	wg.Wait()
	time.Sleep(time.Second)
	health := "answers"
	hc := http.Client{Timeout: 5 * time.Second}
	if resp, err := hc.Get("http://" + s.addr + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		health = fmt.Sprintf("FAILS (%v)", err)
	} else {
		resp.Body.Close()
	}
	// How many of the idle connections the server still holds open.
	open := 0
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err != nil && os.IsTimeout(err) {
			open++
		}
	}
	close(stop)
	p := <-most
	report(t, fmt.Sprintf("%d idle keep-alive HTTP connections", n), p, nil,
		fmt.Sprintf("/healthz %s; %d still open on the server; %d dials failed", health, open, failed))
	if !strings.HasPrefix(health, "answers") {
		t.Errorf("/healthz %s", health)
	}
}

// TestSubscriptionFlood: clients subscribe to tens of thousands of
// channels while a probe echoes.
func TestSubscriptionFlood(t *testing.T) {
	s := start(t)
	const conns, perConn = 30, 1000
	stop := make(chan struct{})
	most, probes := s.watch(stop), s.probe(t, stop)
	began := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	answers := map[string]int{}
	for c := range conns {
		wg.Go(func() {
			nc, br, _, err := ws.Dial(context.Background(), "ws://"+s.addr+"/ws", ws.DialOptions{})
			if err != nil {
				t.Error(err)
				return
			}
			defer nc.Close()
			key := ws.NewMaskKey()
			var out []byte
			for i := range perConn + 100 { // 100 past the default cap
				out = ws.AppendMaskedFrame(out, ws.OpText, true, 0, key, fmt.Appendf(nil, `{"id":%d,"sub":"flood.%d.%d"}`, i, c, i))
			}
			nc.SetDeadline(time.Now().Add(10 * time.Minute))
			nc.Write(out)
			r := ws.NewReader(ws.ReaderOptions{Role: ws.ClientSide})
			buf := make([]byte, 64<<10)
			for got := 0; got < perConn+100; {
				n, err := br.Read(buf)
				if err != nil {
					t.Error(err)
					return
				}
				for b := buf[:n]; len(b) > 0; {
					k, ev, err := r.Next(b)
					if err != nil {
						t.Error(err)
						return
					}
					b = b[k:]
					if ev.Kind == ws.EventMessage {
						got++
						kind := "ok"
						if strings.Contains(string(ev.Payload), `"error"`) {
							kind = "error"
						}
						mu.Lock()
						answers[kind]++
						mu.Unlock()
					}
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(began)
	close(stop)
	p := <-most
	report(t, fmt.Sprintf("%d connections × %d subs", conns, perConn+100), p, <-probes,
		fmt.Sprintf("all answered in %v: %d ok, %d errors (the cap)", took.Round(time.Millisecond), answers["ok"], answers["error"]))
}

// dialMany opens n WebSocket connections to path, from source addresses
// 127.0.0.1–8 so that ports do not run out.
func (s *server) dialMany(t *testing.T, n int, path string) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, n)
	for i := range conns {
		nc, _, _, err := ws.Dial(context.Background(), "ws://"+s.addr+path, ws.DialOptions{
			NetDialer: &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%8))}},
		})
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns[i] = nc
	}
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	return conns
}

// TestStalledMessages: 500 connections each send 900 KB of a 1 MB message
// and stall.
func TestStalledMessages(t *testing.T) {
	s := start(t)
	const conns, size, sent = 500, 1_000_000, 900_000
	stop := make(chan struct{})
	most, probes := s.watch(stop), s.probe(t, stop)
	key := ws.NewMaskKey()
	frame := ws.AppendMaskedFrame(nil, ws.OpBinary, true, 0, key, make([]byte, size))[:sent]
	var wg sync.WaitGroup
	for _, nc := range s.dialMany(t, conns, "/echo") {
		wg.Go(func() {
			nc.SetWriteDeadline(time.Now().Add(floodFor()))
			nc.Write(frame) // a paused server leaves the rest in the socket: the deadline ends the write
		})
	}
	wg.Wait()
	time.Sleep(2 * time.Second)
	close(stop)
	p := <-most
	report(t, fmt.Sprintf("%d connections stalled inside a 1 MB message", conns), p, <-probes, "")
}

// TestHungBackendCalls: 24 connections each start 64 calls with 1 MB of
// args to a backend that never answers.
func TestHungBackendCalls(t *testing.T) {
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	go func() {
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c) // reads the request, never answers
		}
	}()
	s := start(t, "--backend", "http://"+hung.Addr().String())
	const conns, calls = 24, 64
	stop := make(chan struct{})
	most, probes := s.watch(stop), s.probe(t, stop)
	args := `"` + strings.Repeat("x", 1_000_000-64) + `"`
	key := ws.NewMaskKey()
	var wg sync.WaitGroup
	var mu sync.Mutex
	replies := map[string]int{} // error codes of the replies read, "written" for calls sent
	for _, nc := range s.dialMany(t, conns, "/ws") {
		go func() { // read the replies, counting them by error code
			r := ws.NewReader(ws.ReaderOptions{Role: ws.ClientSide})
			buf := make([]byte, 64<<10)
			for {
				n, err := nc.Read(buf)
				if err != nil {
					return
				}
				for b := buf[:n]; len(b) > 0; {
					k, ev, err := r.Next(b)
					if err != nil {
						return
					}
					b = b[k:]
					if ev.Kind == ws.EventMessage {
						code := "ok"
						if i := strings.Index(string(ev.Payload), `"code":"`); i >= 0 {
							code = strings.SplitN(string(ev.Payload[i+8:]), `"`, 2)[0]
						}
						mu.Lock()
						replies[code]++
						mu.Unlock()
					}
				}
			}
		}()
		wg.Go(func() {
			nc.SetWriteDeadline(time.Now().Add(floodFor()))
			for i := range calls {
				msg := fmt.Appendf(nil, `{"id":%d,"call":"slow.method","args":%s}`, i, args)
				if _, err := nc.Write(ws.AppendMaskedFrame(nil, ws.OpText, true, 0, key, msg)); err != nil {
					return
				}
				mu.Lock()
				replies["written"]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	time.Sleep(2 * time.Second)
	close(stop)
	p := <-most
	mu.Lock()
	got := fmt.Sprint(replies)
	mu.Unlock()
	report(t, fmt.Sprintf("%d connections × %d calls with 1 MB args, backend never answers", conns, calls), p, <-probes, "calls written and replies by code: "+got)
}
