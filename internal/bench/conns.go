package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgate/wsgate/ws"
)

// holdReadBuf is the read buffer of an idle connection, in bytes: enough
// for pings and a Close.
const holdReadBuf = 256

// runConns is "wsgate bench conns": open --conns connections (pausing at
// each of --steps to let the server settle for --warmup and sample it),
// let them settle for --warmup, hold them idle for --duration (answering
// pings), and report the storm's handshake rate and, with --server-pid,
// the server's memory per connection.
func (r *runner) runConns(ctx context.Context) (*Result, error) {
	var before procSample
	if len(r.o.ServerPIDs) > 0 {
		var err error
		if before, err = readProc(r.o.ServerPIDs[0]); err != nil {
			return nil, err
		}
	}
	var lost, open atomic.Int64
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stopLoad()
		wg.Wait()
	}()
	var total storm
	var steps []StepResult
	hs := newHistogram()
	for _, target := range append(append([]int(nil), r.o.Steps...), r.o.Conns) {
		conns, st, err := r.openRange(ctx, total.Opened, target, holdReadBuf, nil)
		if err != nil {
			return nil, err
		}
		total.Opened += st.Opened
		total.Elapsed += st.Elapsed
		hs.Merge(st.hist)
		open.Add(int64(len(conns)))
		for _, c := range conns {
			wg.Go(func() {
				if err := hold(loadCtx, c); err != nil && loadCtx.Err() == nil {
					lost.Add(1)
					open.Add(-1)
					r.connError(loadCtx, c, err)
				}
			})
		}
		steps = append(steps, StepResult{Conns: target, HandshakesPerS: st.PerSecond()})
		if target == r.o.Conns {
			break
		}
		sleepCtx(ctx, r.o.Warmup)
		if len(r.o.ServerPIDs) > 0 {
			p, err := readProc(r.o.ServerPIDs[0])
			if err != nil {
				return nil, err
			}
			steps[len(steps)-1].RSSBytes = p.RSS
			steps[len(steps)-1].RSSPerConnBytes = float64(p.RSS-before.RSS) / float64(target)
		}
	}
	total.Handshake = summarize(hs)
	w, werr := r.measure(ctx, func() string {
		return commas(open.Load()) + " open  " + commas(lost.Load()) + " dropped"
	})
	stopLoad()
	wg.Wait()
	res := r.result(total, w, Summary{})
	res.Lost = lost.Load()
	res.Errors = r.errs.Snapshot()
	if s := res.Server; s != nil && total.Opened > 0 {
		s.RSSBeforeBytes = before.RSS
		s.RSSPerConnBytes = float64(s.RSSBytes-before.RSS) / float64(total.Opened)
		last := &steps[len(steps)-1]
		last.RSSBytes, last.RSSPerConnBytes = s.RSSBytes, s.RSSPerConnBytes
	}
	res.Steps = steps
	if werr != nil {
		return res, werr
	}
	return res, r.failIfErrors()
}

// hold keeps c open and idle until ctx ends, answering pings. It returns
// nil when ctx ended, or why the connection ended before.
func hold(ctx context.Context, c *conn) error {
	release := c.stopOn(ctx)
	defer func() {
		release()
		c.shutdown(2 * time.Second)
	}()
	for {
		err := c.read(func(ws.Event) {})
		if err == nil {
			err = c.flush()
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}
