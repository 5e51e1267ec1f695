package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/wsgate/wsgate/ws"
)

// runner is the harness the subcommands share: the connection storm,
// the warmup and measured window, progress lines and server statistics.
type runner struct {
	o      Options
	t      target
	stderr io.Writer // progress lines; io.Discard with --quiet
	lat    *latency
	errs   tally // error kinds seen during the run

	// windowHook, when set, is called as the measured window opens
	// (true) and closes (false).
	windowHook func(open bool)
}

// storm describes how the connections were opened.
type storm struct {
	Opened    int
	Elapsed   time.Duration
	Handshake Summary                 // TCP connect plus opening handshake, per connection
	hist      *hdrhistogram.Histogram // what Handshake summarizes, in µs
}

// PerSecond is the handshake rate of the storm.
func (s storm) PerSecond() float64 { return perSecond(int64(s.Opened), s.Elapsed) }

func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// openAll opens n connections, DialConcurrency at a time, each with a
// read buffer of readBuf bytes. On failure it closes what it opened and
// returns an error that names the limit hit, if one was.
func (r *runner) openAll(ctx context.Context, n, readBuf int, subprotocols []string) ([]*conn, storm, error) {
	return r.openRange(ctx, 0, n, readBuf, subprotocols)
}

// openRange opens connections with ids from to to-1 as openAll does;
// the returned slice holds them in id order. Limit errors count every
// connection of the run (from + those opened here).
func (r *runner) openRange(ctx context.Context, from, to, readBuf int, subprotocols []string) ([]*conn, storm, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := to - from
	conns := make([]*conn, n)
	var (
		next, opened atomic.Int64
		mu           sync.Mutex
		firstErr     error
		wg           sync.WaitGroup
	)
	hist := newHistogram()
	start := time.Now()
	stopProgress := r.everySecond(func(el time.Duration) {
		k := opened.Load()
		fmt.Fprintf(r.stderr, "%s  connecting %4.0fs  %s/%s open  %s/s\n",
			r.o.Cmd, el.Seconds(), commas(int64(from)+k), commas(int64(to)), commas(int64(perSecond(k, el))))
	})
	for range min(r.o.DialConcurrency, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t0 := time.Now()
				c, err := dialConn(ctx, r.t, from+i, readBuf, r.o.DialTimeout, subprotocols)
				if err != nil {
					mu.Lock()
					if firstErr == nil && ctx.Err() == nil {
						firstErr = err
						cancel()
					}
					mu.Unlock()
					return
				}
				d := time.Since(t0)
				c.writeEach = r.o.WriteEach
				conns[i] = c
				opened.Add(1)
				mu.Lock()
				recordUS(hist, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	stopProgress()
	st := storm{Opened: int(opened.Load()), Elapsed: time.Since(start), Handshake: summarize(hist), hist: hist}
	if firstErr == nil && st.Opened < n {
		firstErr = context.Cause(ctx) // the caller's ctx ended
	}
	if firstErr != nil {
		closeAll(conns)
		total := from + st.Opened
		if e := explainDialError(firstErr, total); e != nil {
			return nil, st, e
		}
		return nil, st, fmt.Errorf("bench: connect after %s connections: %w", commas(int64(total)), firstErr)
	}
	return conns, st, nil
}

// closeAll closes every connection without a closing handshake.
func closeAll(conns []*conn) {
	for _, c := range conns {
		if c != nil {
			c.nc.Close()
		}
	}
}

// window is what the measured window saw besides latencies.
type window struct {
	Elapsed       time.Duration
	Servers       []procDelta // one per --server-pid
	ClientCPU     time.Duration
	WarmupElapsed time.Duration
}

// procDelta is a process's CPU use over the window and its RSS at the
// start and end of it.
type procDelta struct {
	PID            int
	User, Sys      time.Duration
	RSSStart, RSS  int64
	RSSBeforeStorm int64 // conns only: before the first connection
}

// measure runs the warmup, then the measured window, while the
// connections' goroutines generate load. It prints a progress line every
// second built from the latency interval and status(). It returns early,
// with what it has, when ctx ends.
func (r *runner) measure(ctx context.Context, status func() string) (window, error) {
	phase := atomic.Value{}
	phase.Store("warmup")
	stop := r.everySecond(func(el time.Duration) {
		iv := r.lat.Interval()
		line := fmt.Sprintf("%s  %-7s %4.0fs", r.o.Cmd, phase.Load(), el.Seconds())
		if r.o.Cmd != CmdConns {
			line += fmt.Sprintf("  %9s msgs/s  p50 %s  p99 %s", commas(iv.Count), fmtDur(iv.P50), fmtDur(iv.P99))
		}
		if s := status(); s != "" {
			line += "  " + s
		}
		fmt.Fprintln(r.stderr, line+"  errors "+commas(r.errs.Total()))
	})
	defer stop()

	var w window
	t0 := time.Now()
	sleepCtx(ctx, r.o.Warmup)
	w.WarmupElapsed = time.Since(t0)

	var self0 procSample
	srv0 := make([]procSample, len(r.o.ServerPIDs))
	for i, pid := range r.o.ServerPIDs {
		var err error
		if srv0[i], err = readProc(pid); err != nil {
			return w, err
		}
	}
	self0, _ = readProc(os.Getpid())
	r.lat.SetMeasuring(true)
	if r.windowHook != nil {
		r.windowHook(true)
	}
	phase.Store("measure")
	start := time.Now()
	sleepCtx(ctx, r.o.Duration)
	r.lat.SetMeasuring(false)
	if r.windowHook != nil {
		r.windowHook(false)
	}
	w.Elapsed = time.Since(start)
	if self1, err := readProc(os.Getpid()); err == nil {
		w.ClientCPU = self1.CPU() - self0.CPU()
	}
	for i, pid := range r.o.ServerPIDs {
		srv1, err := readProc(pid)
		if err != nil {
			return w, err
		}
		w.Servers = append(w.Servers, procDelta{
			PID:      pid,
			User:     srv1.User - srv0[i].User,
			Sys:      srv1.Sys - srv0[i].Sys,
			RSSStart: srv0[i].RSS,
			RSS:      srv1.RSS,
		})
	}
	return w, nil
}

// everySecond calls fn with the time elapsed since the call, once a
// second, until the returned stop is called; stop waits for fn to
// return. With --quiet nothing is started.
func (r *runner) everySecond(fn func(elapsed time.Duration)) (stop func()) {
	if r.o.Quiet {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fn(time.Since(start))
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// connError records why a connection's loop ended early, unless the
// run was stopping anyway.
func (r *runner) connError(ctx context.Context, c *conn, err error) {
	if ctx.Err() != nil {
		return // stopping: reads fail on purpose
	}
	switch {
	case c.closed != nil:
		r.errs.Add(fmt.Sprintf("closed by server (%d)", uint16(c.closed.Code)), 1)
	case errors.Is(err, io.EOF):
		r.errs.Add("connection dropped by server", 1)
	default:
		r.errs.Add(shortErr(err), 1)
	}
}

// shortErr names an error without the addresses and ports that would
// make every connection's error distinct.
func shortErr(err error) string {
	var pe *ws.ProtocolError
	var se *os.SyscallError
	switch {
	case errors.As(err, &pe):
		return "protocol error from server: " + pe.Reason
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.As(err, &se):
		return "i/o: " + se.Err.Error()
	}
	return err.Error()
}

// fmtDur formats a latency with 3 significant digits: 87µs, 1.23ms, 2.5s.
func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d/time.Microsecond)
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'g', 3, 64) + "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'g', 3, 64) + "s"
}
