package delayproxy_test

import (
	"bufio"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/delayproxy"
)

// echoServer sends back what it receives until the test ends (and the
// proxy, closed first, has closed its connections).
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { defer c.Close(); io.Copy(c, c) })
		}
	})
	return ln.Addr().String()
}

func TestProxyDelays(t *testing.T) {
	t.Parallel()
	const delay = 50 * time.Millisecond
	p, err := delayproxy.New(echoServer(t), delay)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	for range 3 {
		start := time.Now()
		if _, err := c.Write([]byte("hello\n")); err != nil {
			t.Fatal(err)
		}
		line, err := r.ReadString('\n')
		if err != nil || line != "hello\n" {
			t.Fatalf("read %q, %v", line, err)
		}
		// A lower bound only: a loaded machine may add, never remove.
		if rtt := time.Since(start); rtt < 2*delay {
			t.Fatalf("round trip %v, want at least %v", rtt, 2*delay)
		}
	}
}

func TestProxyCut(t *testing.T) {
	t.Parallel()
	p, err := delayproxy.New(echoServer(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatal(err)
	}
	p.Cut()
	c.SetReadDeadline(time.Now().Add(10 * time.Second)) // a hang guard
	if _, err := c.Read(b); err == nil {
		t.Fatal("read after Cut succeeded")
	}
	// New connections still work.
	c2, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.Write([]byte("y"))
	c2.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c2, b); err != nil || b[0] != 'y' {
		t.Fatalf("after Cut: %q, %v", b, err)
	}
}
