package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgate/wsgate/ws"
)

// fanoutLoad is the state a fanout run shares between its subscribers
// and its publisher.
type fanoutLoad struct {
	r       *runner
	pad     string // --size bytes of padding in every publication
	gaps    atomic.Int64
	pubs    atomic.Int64 // publications sent, whole run
	pubAcks tally        // publish replies by code
}

// loop subscribes c to the channel, reports on subscribed once the
// server answered, then records the delivery latency of every
// publication until ctx ends.
func (f *fanoutLoad) loop(ctx context.Context, c *conn, subscribed func()) {
	release := c.stopOn(ctx)
	defer func() {
		release()
		c.shutdown(time.Second)
	}()
	once := sync.OnceFunc(subscribed)
	defer once()
	c.queue(ws.OpText, fmt.Appendf(nil, `{"id":1,"sub":%q}`, f.r.o.Channel))
	if err := c.flush(); err != nil {
		f.r.connError(ctx, c, err)
		return
	}
	var last uint64
	lat := make([]time.Duration, 0, 16)
	for {
		lat = lat[:0]
		var now int64
		err := c.read(func(ev ws.Event) {
			seq, t, ok := parsePublication(ev.Payload)
			if !ok {
				var rep callReply
				if err := json.Unmarshal(ev.Payload, &rep); err == nil && string(rep.ID) == "1" {
					if rep.Error != nil {
						f.r.errs.Add("subscribe answered "+rep.Error.Code, 1)
					}
					once()
				}
				return
			}
			if now == 0 {
				now = time.Now().UnixNano()
			}
			switch {
			case last != 0 && seq <= last:
				f.r.errs.Add("publication delivered twice or out of order", 1)
				return
			case last != 0 && seq > last+1:
				f.gaps.Add(int64(seq - last - 1))
			}
			last = seq
			lat = append(lat, time.Duration(now-t))
		})
		if len(lat) > 0 {
			f.r.lat.RecordBatch(c.id, lat)
		}
		if err == nil {
			err = c.flush()
		}
		if err != nil {
			f.r.connError(ctx, c, err)
			return
		}
	}
}

// data appends the data of publication n, stamped now, to dst.
func (f *fanoutLoad) data(dst []byte, n uint64, now time.Time) []byte {
	dst = append(dst, `{"t":`...)
	dst = strconv.AppendInt(dst, now.UnixNano(), 10)
	dst = append(dst, `,"n":`...)
	dst = strconv.AppendUint(dst, n, 10)
	if f.pad != "" {
		dst = append(dst, `,"p":"`...)
		dst = append(dst, f.pad...)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

// publishFunc sends publication n; it is called from one goroutine.
type publishFunc func(ctx context.Context, n uint64) error

// pace calls publish --rate times a second until ctx ends. When the
// publisher cannot keep up it publishes back to back; the achieved rate
// is what the report shows.
func (f *fanoutLoad) pace(ctx context.Context, publish publishFunc) {
	start := time.Now()
	rate := f.r.o.Rate
	var n uint64
	for ctx.Err() == nil {
		due := uint64(time.Since(start).Seconds() * rate)
		for ; n < due && ctx.Err() == nil; n++ {
			if err := publish(ctx, n); err != nil {
				if ctx.Err() == nil {
					f.r.errs.Add("publish: "+shortErr(err), 1)
				}
				return
			}
			f.pubs.Add(1)
		}
		next := start.Add(time.Duration(float64(n+1) / rate * float64(time.Second)))
		sleepCtx(ctx, time.Until(next))
	}
}

// runFanout is "wsgate bench fanout".
func (r *runner) runFanout(ctx context.Context) (*Result, error) {
	if r.o.DropEvery > 0 {
		return r.runDrop(ctx)
	}
	f := &fanoutLoad{r: r}
	for range r.o.Size {
		f.pad += "x"
	}
	conns, st, err := r.openAll(ctx, r.o.Conns, 16<<10, []string{subprotocolV1})
	if err != nil {
		return nil, err
	}
	publish, closePub, err := r.newPublisher(ctx, f)
	if err != nil {
		closeAll(conns)
		return nil, err
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var ready sync.WaitGroup
	for _, c := range conns {
		ready.Add(1)
		wg.Go(func() { f.loop(loadCtx, c, ready.Done) })
	}
	allReady := make(chan struct{})
	go func() { ready.Wait(); close(allReady) }() // ends when every loop has called Done, as each does on exit
	subTimeout := time.NewTimer(r.o.DialTimeout)
	var werr error
	select {
	case <-allReady:
	case <-subTimeout.C:
		werr = errors.New("bench: subscribers not all answered within --dial-timeout")
	case <-ctx.Done():
	}
	subTimeout.Stop()

	var pubWG sync.WaitGroup
	var pub0, pub1 int64
	var w window
	if werr == nil {
		pubWG.Go(func() { f.pace(loadCtx, publish) })
		r.windowHook = func(open bool) {
			if open {
				pub0 = f.pubs.Load()
			} else {
				pub1 = f.pubs.Load()
			}
		}
		w, werr = r.measure(ctx, func() string { return commas(f.pubs.Load()) + " published" })
	}
	stopLoad()
	pubWG.Wait()
	closePub()
	wg.Wait()
	<-allReady
	res := r.result(st, w, r.lat.Window())
	res.Channel, res.Size = r.o.Channel, r.o.Size
	res.Published = pub1 - pub0
	res.PubPerS = perSecond(res.Published, w.Elapsed)
	res.Gaps = f.gaps.Load()
	res.Codes = f.pubAcks.Snapshot()
	res.Errors = r.errs.Snapshot()
	if werr != nil {
		return res, werr
	}
	return res, r.failIfErrors()
}
