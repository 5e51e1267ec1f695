//go:build linux

package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgate/wsgate/internal/netpoll"
	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// This file holds the epoll engine's event loops. A loop owns the sockets
// of its connections: it alone reads them, closes them and runs their
// Handler. Other goroutines write to a socket directly (conn_epoll_linux.go)
// and reach the loop through its task queue.
//
// Lock order: Conn.mu, then loop.mu; Engine.mu, then loop.mu. Nothing
// that holds loop.mu takes another lock.
//
// Sockets are registered once, edge-triggered, for reading and writing:
// no epoll_ctl call is made after registration, and the loop learns that a
// full socket has drained without asking for it. A readable edge is read
// until the kernel has no more (a short read), at most maxReadsPerEvent
// times before other connections get their turn.

const (
	// loopBufferSize is the minimum size in bytes of a loop's read buffer.
	loopBufferSize = 64 << 10
	// maxReadsPerEvent bounds the reads one connection gets per round.
	maxReadsPerEvent = 8
	// maxEvents is how many events one epoll_wait returns at most.
	maxEvents = 256
	// maxPooledReaders bounds a loop's pool of idle ws.Readers.
	maxPooledReaders = 256
	// maxFlushesPerRound bounds the connections with frames left to the
	// loop (WriteFrame) a loop writes between two looks at its sockets, so
	// a fan-out to thousands does not hold up reads for its whole length.
	maxFlushesPerRound = 1024
	// Bounds of the sweep period: a quarter of the shortest timeout.
	minSweep = 5 * time.Millisecond
	maxSweep = time.Second
	// maxPendingHandshakes caps the connections handed to Serve that a
	// loop has not registered yet; Serve waits for room beyond it, so a
	// burst of handshakes cannot outrun the loops.
	maxPendingHandshakes = 1024
)

// loops is the epoll engine's part of an Engine (a loopGroup): its event
// loops, started with the first epoll connection. list and next are
// guarded by Engine.mu.
type loops struct {
	e *Engine
	// kind is Epoll, or Uring until the kernel refuses a loop's ring
	// (then Epoll). Guarded by Engine.mu.
	kind       Kind
	faults     *uringFaults // nil but in tests (uring_faults_linux.go)
	list       []*loop
	next       int            // the loop that gets the next connection
	wg         sync.WaitGroup // one per loop
	stopOnce   sync.Once
	handshakes chan struct{} // one token per connection on its way to a loop
}

func (g *loops) kindLocked() Kind { return g.kind }

// newLoops returns e's epoll part; its loops start with the first
// connection.
func newLoops(e *Engine) loopGroup {
	return &loops{e: e, kind: e.opts.Kind, handshakes: make(chan struct{}, maxPendingHandshakes)}
}

// started returns the loops running so far.
func (g *loops) started() []*loop {
	g.e.mu.Lock()
	defer g.e.mu.Unlock()
	return g.list
}

func (g *loops) closeAll(code ws.StatusCode, reason string) {
	for _, l := range g.started() {
		l.post(task{kind: taskCloseAll, code: code, reason: reason})
	}
}

func (g *loops) abortAll() {
	for _, l := range g.started() {
		l.post(task{kind: taskAbortAll})
	}
}

// stop ends the loops once every connection has ended.
func (g *loops) stop() {
	g.stopOnce.Do(func() {
		for _, l := range g.started() {
			l.post(task{kind: taskExit})
		}
		g.wg.Wait()
	})
}

// resume wakes every loop, so that it reads again the connections it
// paused for the input budget.
func (g *loops) resume() {
	for _, l := range g.started() {
		l.mu.Lock()
		if !l.exited {
			l.resumeAsked = true
			l.wakeLocked()
		}
		l.mu.Unlock()
	}
}

func (g *loops) writes() uint64 {
	var n uint64
	for _, l := range g.started() {
		n += l.writes.Load()
	}
	return n
}

// taskKind is what a task asks of a loop.
type taskKind uint8

const (
	taskRegister taskKind = iota // take c (and early, its first bytes)
	taskSettle                   // look at c again: it may have ended
	taskResume                   // read c again: its queue is back within its limit
	taskCloseAll                 // start closing every connection with code and reason
	taskAbortAll                 // drop every connection
	taskExit                     // return (every connection has ended)
)

// task is work posted to a loop by another goroutine.
type task struct {
	kind   taskKind
	c      *epollConn
	early  []byte
	code   ws.StatusCode
	reason string
}

// loop is one event loop and the connections it owns. What tells it
// about its sockets is its io: epoll readiness (epollIO) or io_uring
// completions (uringIO, Kind Uring); the rest is the same.
type loop struct {
	e     *Engine
	g     *loops // the engine's loops, this one among them
	io    loopIO
	sweep time.Duration // how often timeouts are checked

	// Touched only by the loop goroutine.
	buf     []byte       // read buffer shared by every connection of the loop
	iov     [][]byte     // scratch for flushes
	slots   []*epollConn // connections by socket number
	tag     uint32       // the last tag given to a connection
	readers []*ws.Reader // idle decoders, reset
	again   []*epollConn // connections left with bytes to read this round
	flushes []*epollConn // connections with frames left to the loop to write, in order
	paused  []*epollConn // connections not read for the input budget, in the order paused
	now     int64        // engine clock after the last epoll_wait

	writes atomic.Uint64 // write and writev system calls on the loop's sockets, from any goroutine

	// batch holds, back to back, the data frames written to the
	// connection whose input the loop is handling (stBatch) while nothing
	// else waits for its socket, so that its replies leave with one write
	// and need no allocation of their own; batchOK says that connection's
	// socket may take them. Guarded by that connection's mu: a loop
	// handles one connection's input at a time.
	batch   []byte
	batchOK bool

	mu          sync.Mutex // guards the fields below
	tasks       []task
	deferred    []*epollConn // connections with frames from WriteFrame to write (stDeferred set)
	sleeping    bool         // the loop is in, or about to enter, a blocking epoll_wait
	resumeAsked bool         // the input budget freed bytes or its lease since the loop last looked
	woken       bool         // Wake was called since the loop last woke
	exited      bool
}

// serve moves tc to an epoll loop.
func (g *loops) serve(tc *net.TCPConn, br *bufio.Reader, h Handler, pmd wsflate.Params) error {
	e := g.e
	var early []byte
	if br != nil && br.Buffered() > 0 {
		p, _ := br.Peek(br.Buffered())
		early = bytes.Clone(p)
	}
	select {
	case g.handshakes <- struct{}{}:
	case <-e.done:
		e.refuse(tc)
		return ErrEngineClosed
	}
	fd, err := dupSocket(tc)
	if err != nil {
		tc.Close()
		<-g.handshakes
		return err
	}
	// The copy keeps the socket open; Go's poller forgets the original
	// once tc is closed, which waits until the engine took or refused it.
	c := &epollConn{Conn: Conn{h: h, pmd: pmd}, fd: int32(fd)}
	c.tr = c
	if addr, ok := tc.RemoteAddr().(*net.TCPAddr); ok {
		c.setPeer(addr.AddrPort())
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		netpoll.Close(fd)
		<-g.handshakes
		e.refuse(tc)
		return ErrEngineClosed
	}
	l, err := g.pickLoopLocked()
	if err != nil {
		e.mu.Unlock()
		netpoll.Close(fd)
		tc.Close()
		<-g.handshakes
		return err
	}
	c.l = l
	e.n.Add(1)
	e.wg.Add(1)
	// Posted under e.mu so that a Shutdown or Close, which posts after
	// taking e.mu, reaches the loop after this registration.
	l.post(task{kind: taskRegister, c: c, early: early})
	e.mu.Unlock()
	tc.Close()
	return nil
}

func dupSocket(tc *net.TCPConn) (int, error) {
	rc, err := tc.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("engine: %w", err)
	}
	fd, err := netpoll.Dup(rc)
	if err != nil {
		return -1, fmt.Errorf("engine: %w", err)
	}
	return fd, nil
}

// pickLoopLocked returns the loop for the next connection, starting the
// loops on first use. Engine.mu must be held.
func (g *loops) pickLoopLocked() (*loop, error) {
	if g.list == nil {
		if g.kind == Uring {
			if err := g.startUringLocked(); err != nil {
				return nil, err
			}
		} else if err := g.startEpollLocked(); err != nil {
			return nil, err
		}
	}
	l := g.list[g.next%len(g.list)]
	g.next++
	return l, nil
}

// startEpollLocked starts GOMAXPROCS epoll loops. Engine.mu must be
// held.
func (g *loops) startEpollLocked() error {
	n := runtime.GOMAXPROCS(0)
	list := make([]*loop, 0, n)
	for range n {
		l := newLoop(g)
		p, err := netpoll.New()
		if err != nil {
			for _, l := range list {
				l.io.close()
			}
			return fmt.Errorf("engine: start epoll loop: %w", err)
		}
		l.io = &epollIO{l: l, poll: p, events: make([]netpoll.Event, maxEvents)}
		l.buf = make([]byte, max(loopBufferSize, g.e.opts.ReadBufferSize))
		list = append(list, l)
	}
	g.list = list
	for _, l := range list {
		g.wg.Add(1)
		go l.run()
	}
	return nil
}

// newLoop returns a loop without its io.
func newLoop(g *loops) *loop {
	o := &g.e.opts
	sweep := min(o.PingInterval, o.CloseTimeout, o.WriteTimeout) / 4
	sweep = max(minSweep, min(sweep, maxSweep))
	return &loop{e: g.e, g: g, sweep: sweep}
}

// post queues t for the loop and wakes it if it sleeps. Safe from any
// goroutine, the loop's own included; after the loop has exited it does
// nothing.
func (l *loop) post(t task) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.exited {
		l.tasks = append(l.tasks, t)
		l.wakeLocked()
	}
}

// wakeLocked wakes the loop if it sleeps and nobody woke it yet. l.mu
// must be held.
func (l *loop) wakeLocked() {
	if l.sleeping && !l.woken {
		l.woken = true
		l.io.wake()
	}
}

// flushLater puts c, which has just set stDeferred, on the loop's list of
// connections to flush and wakes the loop if it sleeps. Safe from any
// goroutine.
func (l *loop) flushLater(c *epollConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.exited {
		l.deferred = append(l.deferred, c)
		l.wakeLocked()
	}
}

// flushDeferred writes what WriteFrame left to the loop on the first
// maxFlushesPerRound connections of l.flushes. A socket that refuses part
// of it is flushed again by its drain edge.
func (l *loop) flushDeferred() {
	k := min(len(l.flushes), maxFlushesPerRound)
	for _, c := range l.flushes[:k] {
		c.mu.Lock()
		c.state &^= stDeferred
		if c.out != nil {
			l.io.flushLocked(c)
		}
		c.mu.Unlock()
		l.settle(c)
	}
	n := copy(l.flushes, l.flushes[k:])
	clear(l.flushes[n:])
	l.flushes = l.flushes[:n]
}

// run is the loop goroutine.
func (l *loop) run() {
	defer l.g.wg.Done()
	var tasks []task
	nextSweep := l.e.now() + int64(l.sweep)
	for {
		timeout := 0
		if len(l.again) == 0 && len(l.flushes) == 0 {
			timeout = int((time.Duration(nextSweep-l.now) + time.Millisecond - 1) / time.Millisecond)
			timeout = max(timeout, 0)
		}
		if len(l.paused) > 0 {
			// Ask to be woken when bytes are freed, then look: freed
			// before the ask, they are seen here.
			l.e.input.waiting.Store(true)
			if l.mayResume() {
				timeout = 0
			}
		}
		l.mu.Lock()
		if len(l.tasks) > 0 || len(l.deferred) > 0 || l.resumeAsked && len(l.paused) > 0 {
			timeout = 0
		}
		l.resumeAsked = false
		l.sleeping = timeout != 0
		l.mu.Unlock()

		if err := l.io.wait(timeout); err != nil {
			panic(err) // EBADF, EFAULT or EINVAL: a bug here, not the peer's doing
		}
		l.mu.Lock()
		l.sleeping, l.woken = false, false
		tasks, l.tasks = l.tasks, tasks[:0]
		l.flushes = append(l.flushes, l.deferred...)
		clear(l.deferred)
		l.deferred = l.deferred[:0]
		l.mu.Unlock()

		l.now = l.e.now()
		l.io.handle()
		l.resumePaused()
		l.flushDeferred()
		for i := range tasks {
			if l.runTask(&tasks[i]) {
				l.exit()
				return
			}
			tasks[i] = task{}
		}
		if l.now >= nextSweep {
			l.sweepConns()
			nextSweep = l.now + int64(l.sweep)
		}
	}
}

// runTask runs t and reports whether the loop must exit.
func (l *loop) runTask(t *task) bool {
	switch t.kind {
	case taskRegister:
		l.register(t.c, t.early)
	case taskSettle:
		l.settle(t.c)
	case taskResume:
		if l.owns(t.c) {
			l.io.resume(t.c)
			l.settle(t.c)
		}
	case taskCloseAll:
		for _, c := range l.slots {
			if c != nil {
				c.Close(t.code, t.reason)
				l.settle(c)
			}
		}
	case taskAbortAll:
		for _, c := range l.slots {
			if c != nil {
				c.abort(ErrEngineClosed)
				l.finish(c)
			}
		}
	case taskExit:
		return true
	}
	return false
}

// exit closes what the loop still holds (nothing, when the engine waited
// for its connections) and the poller.
func (l *loop) exit() {
	for _, c := range l.slots {
		if c != nil {
			c.abort(ErrEngineClosed)
			l.finish(c)
		}
	}
	l.mu.Lock()
	l.exited = true
	l.tasks = nil
	l.deferred = nil
	l.io.close()
	l.mu.Unlock()
}

// register takes a new connection: OnOpen, the bytes that came with the
// handshake, then its socket joins the poller.
func (l *loop) register(c *epollConn, early []byte) {
	<-l.g.handshakes
	fd := int(c.fd)
	if fd >= len(l.slots) {
		l.slots = append(l.slots, make([]*epollConn, fd+1-len(l.slots))...)
		l.slots = l.slots[:cap(l.slots)]
	}
	l.tag++
	c.tag = l.tag
	l.slots[fd] = c
	c.lastRead = l.now
	c.h.OnOpen(&c.Conn)
	if len(early) > 0 {
		c.onRead(l.now)
		l.feed(c, early)
	}
	if l.slots[fd] == c {
		if err := l.io.add(c); err != nil {
			c.abort(fmt.Errorf("engine: %w", err))
		}
	}
	l.settle(c)
}

// pause leaves c, which holds a partial message, unread while the input
// budget is spent: its socket keeps the bytes, and no new edge may come
// for them, so c waits in l.paused for resumePaused.
func (l *loop) pause(c *epollConn) {
	c.rflags |= rPaused
	l.paused = append(l.paused, c)
	l.e.input.paused.Add(1)
}

// mayResume reports whether paused connections may be read: the budget
// has room, or no connection holds its lease.
func (l *loop) mayResume() bool {
	b := &l.e.input
	return !b.spent() || b.leaseFree(l.e.now())
}

// resumePaused reads the paused connections, longest paused first, while
// the budget allows. Those it does not reach keep their place ahead of
// any paused again meanwhile.
func (l *loop) resumePaused() {
	if len(l.paused) == 0 || !l.mayResume() {
		return
	}
	paused := l.paused
	l.paused = nil
	i := 0
	for ; i < len(paused) && l.mayResume(); i++ {
		c := paused[i]
		c.rflags &^= rPaused
		if l.owns(c) {
			l.io.resume(c)
			l.settle(c)
		}
	}
	rest := append(paused[i:len(paused):len(paused)], l.paused...)
	clear(paused[:i])
	l.paused = rest
}

// owns reports whether c is live on this loop.
func (l *loop) owns(c *epollConn) bool {
	fd := int(c.fd)
	return fd < len(l.slots) && l.slots[fd] == c
}

// feed decodes b for c. A connection holds a decoder only while a frame
// or fragmented message is partial; between messages it goes back to the
// loop's pool, so an idle connection holds no buffer.
func (l *loop) feed(c *epollConn, b []byte) {
	if c.rflags&(rFailed|rDone) != 0 {
		return // a failed stream is discarded until the peer's FIN
	}
	r := c.rd
	fresh := r == nil
	if fresh {
		if k := len(l.readers); k > 0 {
			r = l.readers[k-1]
			l.readers[k-1] = nil
			l.readers = l.readers[:k-1]
		} else {
			r = ws.NewReader(l.e.readerOptions())
		}
		if c.deflating() {
			r.Reset(c.readerOptions())
		}
		c.rd = r
	}
	msgEnd := c.consume(r, b)
	// r is back where a new Reader starts when b ended a message, or when
	// r started there and b holds whole frames and no partial message
	// (pongs, typically).
	if c.rflags&(rFailed|rDone) != 0 || r.Buffered() == 0 && (msgEnd || fresh && wholeFrames(b)) {
		c.rd = nil
		l.putReader(r)
		c.chargeInput(0)
		return
	}
	c.chargeInput(r.Footprint())
}

func (l *loop) putReader(r *ws.Reader) {
	if len(l.readers) == maxPooledReaders {
		return
	}
	r.Reset(l.e.readerOptions())
	r.Release()
	l.readers = append(l.readers, r)
}

// wholeFrames reports whether b is a sequence of complete frames that
// leaves no fragmented message open. It reads only headers, which the
// decoder does not modify.
func wholeFrames(b []byte) bool {
	open := false
	for len(b) > 0 {
		h, n, err := ws.ParseHeader(b)
		if err != nil || n == 0 || int64(len(b)-n) < h.Length {
			return false
		}
		b = b[n+int(h.Length):]
		if !h.Opcode.IsControl() {
			open = !h.Fin
		}
	}
	return !open
}

// settle ends c when it is done: dropped, or both Close frames exchanged.
func (l *loop) settle(c *epollConn) {
	c.mu.Lock()
	st := c.state
	c.mu.Unlock()
	if st&stEnded != 0 {
		return
	}
	if st&stAborted != 0 || st&(stCloseDone|stCloseRecv) == stCloseDone|stCloseRecv {
		l.finish(c)
	}
}

// finish ends c: the slot is cleared before the socket is closed, since
// the kernel hands the number out again at once; then OnClose.
func (l *loop) finish(c *epollConn) {
	c.mu.Lock()
	if c.state&stEnded != 0 {
		c.mu.Unlock()
		return
	}
	c.markAbortedLocked(ErrClosed)
	c.state |= stEnded
	cause := c.causeLocked()
	unsent := c.out != nil
	c.out, c.queued, c.stallAt = nil, 0, 0
	c.mu.Unlock()
	fd := int(c.fd)
	if l.owns(c) {
		l.slots[fd] = nil
	}
	l.io.forget(c)
	if unsent {
		// The peer stopped reading (a slow consumer, or a Close it never
		// took): reset the connection, so the kernel drops the bytes it
		// still holds for the peer now instead of after its retries.
		netpoll.SetLingerZero(fd)
	}
	netpoll.Close(fd)
	if c.rd != nil {
		l.putReader(c.rd)
		c.rd = nil
	}
	c.chargeInput(0)
	c.dropContext()
	e := l.e
	e.n.Add(-1)
	c.h.OnClose(&c.Conn, cause)
	e.wg.Done()
}

// sweepConns applies every connection's timeouts.
func (l *loop) sweepConns() {
	for _, c := range l.slots {
		if c != nil && c.keepAlive(l.now) {
			c.abort(ErrClosed)
			l.finish(c)
		}
	}
}
