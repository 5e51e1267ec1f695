//go:build linux

package engine_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/measuretest"
	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// A child is this test binary run again as a client process, so that
// tens of thousands of client sockets neither count against the server
// process's open-file limit nor show in its memory and CPU figures. The
// parent drives it over stdin and stdout, one line per command.

// childEnv names the variable that makes the test binary a child; its
// value is the URL to dial.
const childEnv = "ENGINE_TEST_CHILD_URL"

// child is a running client process.
type child struct {
	t   testing.TB
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// startChild runs a client process that opens n connections to url and
// returns once they are open.
func startChild(t testing.TB, url string, n int) *child {
	t.Helper()
	return startChildEnv(t, url, n)
}

// startDeflateChild is startChild for clients that offer
// permessage-deflate and send their messages compressed.
func startDeflateChild(t testing.TB, url string, n int) *child {
	t.Helper()
	return startChildEnv(t, url, n, "ENGINE_TEST_CHILD_DEFLATE=1")
}

func startChildEnv(t testing.TB, url string, n int, env ...string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+url, "ENGINE_TEST_CHILD_CONNS="+strconv.Itoa(n))
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, cmd: cmd, in: in, out: bufio.NewScanner(out)}
	t.Cleanup(c.stop)
	if got := c.line(); got != "open "+strconv.Itoa(n) {
		t.Fatalf("child: %q, want it to have opened %d connections", got, n)
	}
	return c
}

// do sends one command and returns the child's answer.
func (c *child) do(cmd string) string {
	c.t.Helper()
	if _, err := fmt.Fprintln(c.in, cmd); err != nil {
		c.t.Fatalf("child %s: %v", cmd, err)
	}
	return c.line()
}

func (c *child) line() string {
	c.t.Helper()
	if !c.out.Scan() {
		c.t.Fatalf("child ended: %v", c.out.Err())
	}
	return c.out.Text()
}

// stop ends the child; its sockets close with it.
func (c *child) stop() {
	if c.in != nil {
		c.in.Close()
		c.in = nil
		c.cmd.Wait()
	}
}

// childMain is the client process. Commands, one per line on stdin:
//
//	echo C K S   C connections each send K messages of S bytes, one at a
//	             time, and read each echo; answers "echoed N CPU_NS"
//	closes       reads every connection until its Close frame; answers
//	             "closes CODE=COUNT ..." (code 0: ended without a Close)
//	once S       every connection sends one S-byte text message and reads
//	             one message back; answers "once N" (N connections did)
//	sub CH       every connection subscribes to CH on /ws and reads the
//	             reply; answers "sub N"
//	recv         every connection reads one message; answers
//	             "recv N BYTES" (messages, total payload bytes on the wire)
//
// With ENGINE_TEST_CHILD_DEFLATE=1 the connections offer
// permessage-deflate and send every message compressed.
// End of input closes everything and exits.
func childMain(url string) int {
	n, _ := strconv.Atoi(os.Getenv("ENGINE_TEST_CHILD_CONNS"))
	var codec *wsflate.Codec
	var offer string
	if os.Getenv("ENGINE_TEST_CHILD_DEFLATE") == "1" {
		codec, _ = wsflate.New(wsflate.Options{Threshold: 1})
		offer = wsflate.ClientOffer
	}
	conns := make([]*clientConn, n)
	var failed atomic.Value
	parallel(n, 32, func(i int) {
		for try := 0; ; try++ {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			nc, br, hs, err := ws.Dial(ctx, url, ws.DialOptions{Extensions: offer})
			cancel()
			if err == nil && codec != nil && hs.Extensions == "" {
				err = fmt.Errorf("permessage-deflate declined")
			}
			if err == nil {
				conns[i] = &clientConn{nc: nc, br: br, z: codec}
				return
			}
			if try == 5 {
				failed.Store(err)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	if err, _ := failed.Load().(error); err != nil {
		fmt.Fprintln(os.Stderr, "child: dial:", err)
		return 1
	}
	fmt.Println("open", n)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		switch f[0] {
		case "echo":
			c, _ := strconv.Atoi(f[1])
			k, _ := strconv.Atoi(f[2])
			size, _ := strconv.Atoi(f[3])
			var echoed atomic.Int64
			before := measuretest.CPUNanos()
			parallel(c, c, func(i int) {
				cc := conns[i]
				msg := []byte(strings.Repeat("e", size))
				for range k {
					if err := cc.writeText(msg); err != nil {
						fmt.Fprintln(os.Stderr, "child: write:", err)
						return
					}
					ev, err := cc.next()
					if err != nil || ev.Kind != ws.EventMessage || len(ev.Payload) != size {
						fmt.Fprintln(os.Stderr, "child: echo:", ev.Kind, err)
						return
					}
					echoed.Add(1)
				}
			})
			fmt.Println("echoed", echoed.Load(), measuretest.CPUNanos()-before)
		case "once", "sub", "recv":
			var done, bytes atomic.Int64
			parallel(n, 64, func(i int) {
				cc := conns[i]
				switch f[0] {
				case "once":
					size, _ := strconv.Atoi(f[1])
					if cc.writeText(jsonText(size)) != nil {
						return
					}
				case "sub":
					if cc.writeText([]byte(`{"id":1,"sub":"`+f[1]+`"}`)) != nil {
						return
					}
				}
				ev, err := cc.next()
				if err != nil || ev.Kind != ws.EventMessage {
					fmt.Fprintln(os.Stderr, "child:", f[0], ev.Kind, err)
					return
				}
				bytes.Add(int64(len(ev.Payload)))
				done.Add(1)
			})
			if f[0] == "recv" {
				fmt.Println(f[0], done.Load(), bytes.Load())
			} else {
				fmt.Println(f[0], done.Load())
			}
		case "closes":
			var mu sync.Mutex
			codes := map[ws.StatusCode]int{}
			parallel(n, 64, func(i int) {
				code := conns[i].readClose()
				mu.Lock()
				codes[code]++
				mu.Unlock()
			})
			var b strings.Builder
			b.WriteString("closes")
			for code, k := range codes {
				fmt.Fprintf(&b, " %d=%d", code, k)
			}
			fmt.Println(b.String())
		}
	}
	for _, c := range conns {
		c.nc.Close()
	}
	return 0
}

// clientConn is one client connection of a child.
type clientConn struct {
	z   *wsflate.Codec // compresses what the connection sends; nil: plain
	nc  net.Conn
	br  *bufio.Reader
	r   *ws.Reader
	buf []byte
	b   []byte // bytes read and not yet decoded
}

func (c *clientConn) writeText(p []byte) error {
	if c.z != nil {
		if z, ok := c.z.Deflate(nil, p, wsflate.WindowFull); ok {
			_, err := c.nc.Write(ws.AppendMaskedFrame(nil, ws.OpText, true, ws.Rsv1, ws.NewMaskKey(), z))
			return err
		}
	}
	_, err := c.nc.Write(ws.AppendMaskedFrame(nil, ws.OpText, true, 0, ws.NewMaskKey(), p))
	return err
}

// jsonText is n bytes of JSON-like text.
func jsonText(n int) []byte {
	var b []byte
	for i := 0; len(b) < n; i++ {
		b = fmt.Appendf(b, `{"i":%d,"symbol":"ACME","price":%d},`, i, 100+i%37)
	}
	return b[:n]
}

// next returns the next message or control frame from the server.
func (c *clientConn) next() (ws.Event, error) {
	if c.r == nil {
		c.r = ws.NewReader(ws.ReaderOptions{Role: ws.ClientSide, AllowRSV1: c.z != nil})
		c.buf = make([]byte, 16<<10)
	}
	c.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		for len(c.b) > 0 {
			n, ev, err := c.r.Next(c.b)
			c.b = c.b[n:]
			if err != nil {
				return ws.Event{}, err
			}
			if ev.Kind != ws.EventNone {
				return ev, nil
			}
		}
		n, err := c.br.Read(c.buf)
		if n == 0 && err != nil {
			return ws.Event{}, err
		}
		c.b = c.buf[:n]
	}
}

// readClose reads until the server's Close frame and returns its code,
// or 0 when the connection ended without one.
func (c *clientConn) readClose() ws.StatusCode {
	for {
		ev, err := c.next()
		if err != nil {
			return 0
		}
		if ev.Kind == ws.EventClose {
			payload := ws.AppendClosePayload(nil, ev.CloseCode, "")
			c.nc.Write(ws.AppendMaskedFrame(nil, ws.OpClose, true, 0, ws.NewMaskKey(), payload))
			return ev.CloseCode
		}
	}
}

// parallel runs fn(0..n-1) on at most workers goroutines.
func parallel(n, workers int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}
