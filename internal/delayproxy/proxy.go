package delayproxy

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy forwards the TCP connections it accepts on a loopback address to
// a target address, delaying each chunk of bytes by Delay. Its methods
// are safe for concurrent use.
type Proxy struct {
	ln     net.Listener
	target string
	delay  atomic.Int64 // nanoseconds

	mu     sync.Mutex // guards conns and closed
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup // the accept loop and every pipe
}

// New starts a Proxy on 127.0.0.1 (a port of the system's choosing) in
// front of target, a host:port.
func New(target string, delay time.Duration) (*Proxy, error) {
	return Listen("127.0.0.1:0", target, delay)
}

// Listen starts a Proxy on addr, a host:port, in front of target.
func Listen(addr, target string, delay time.Duration) (*Proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: make(map[net.Conn]struct{})}
	p.delay.Store(int64(delay))
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the host:port the proxy listens on.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL returns "http://" followed by Addr.
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// SetDelay changes the delay of the chunks read from now on.
func (p *Proxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// Cut closes every connection the proxy holds, on both sides, without
// waiting for bytes in flight: to both ends it looks like a network
// failure. The proxy keeps accepting new connections.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Close stops accepting, cuts every connection and waits until all the
// proxy's goroutines have ended.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.Cut()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return
		}
		// The connection to the target is made on a goroutine of its
		// own, so that a burst of clients is not let in one dial at a
		// time.
		p.wg.Add(1)
		go p.connect(down)
	}
}

// connect joins down, a connection accepted, to a new connection to the
// target.
func (p *Proxy) connect(down net.Conn) {
	defer p.wg.Done()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		down.Close()
		return
	}
	if !p.track(down, up) {
		down.Close()
		up.Close()
		return
	}
	p.wg.Add(2)
	go p.pipe(down, up)
	go p.pipe(up, down)
}

// track records a connection pair unless the proxy is closed.
func (p *Proxy) track(a, b net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[a] = struct{}{}
	p.conns[b] = struct{}{}
	return true
}

// chunk is bytes read from one side, due on the other at a time.
type chunk struct {
	b   []byte
	due time.Time
}

// pipe copies src to dst, each chunk held for the delay. It starts the
// writing half and is the reading half; when src ends, what was read is
// still written, then both connections are closed.
func (p *Proxy) pipe(src, dst net.Conn) {
	defer p.wg.Done()
	q := make(chan chunk, 256)
	p.wg.Add(1)
	go p.write(dst, src, q)
	defer close(q)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			q <- chunk{b: append([]byte(nil), buf[:n]...), due: time.Now().Add(time.Duration(p.delay.Load()))}
		}
		if err != nil {
			return
		}
	}
}

// write writes the chunks of q to dst when due, then closes both
// connections. A write that fails drops the rest.
func (p *Proxy) write(dst, src net.Conn, q <-chan chunk) {
	defer p.wg.Done()
	defer p.forget(dst, src)
	failed := false
	for c := range q {
		if failed {
			continue
		}
		if d := time.Until(c.due); d > 0 {
			time.Sleep(d)
		}
		if _, err := dst.Write(c.b); err != nil {
			failed = true
		}
	}
}

// forget closes a connection pair and stops tracking it.
func (p *Proxy) forget(a, b net.Conn) {
	p.mu.Lock()
	delete(p.conns, a)
	delete(p.conns, b)
	p.mu.Unlock()
	a.Close()
	b.Close()
}
