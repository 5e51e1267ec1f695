package bench

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/wsgate/wsgate/ws"
)

// subprotocolV1 is offered on /ws; wsgate selects it, other servers may
// ignore it.
const subprotocolV1 = "wsgate.v1"

// callLoad is the state a call run shares between its connections.
type callLoad struct {
	r      *runner
	prefix []byte // `","call":"M"` … written after the id
	suffix []byte // `,"args":A}` or `}`
	codes  tally  // replies by error code, "ok" for results
}

func newCallLoad(r *runner) *callLoad {
	l := &callLoad{r: r}
	l.prefix = append([]byte(`,"call":`), strconv.Quote(r.o.Method)...)
	if len(r.o.Args) > 0 {
		l.suffix = append(append([]byte(`,"args":`), r.o.Args...), '}')
	} else {
		l.suffix = []byte{'}'}
	}
	return l
}

// request appends {"id":id,"call":M,"args":A} to dst.
func (l *callLoad) request(dst []byte, id uint64) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, l.prefix...)
	return append(dst, l.suffix...)
}

// callReply is the part of a /ws reply a call run looks at.
type callReply struct {
	ID    json.RawMessage `json:"id"`
	Ch    string          `json:"ch"`
	Error *struct {
		Code string `json:"code"`
	} `json:"error"`
}

// loop drives one connection until ctx ends with --inflight calls
// running; replies are matched by id, in any order.
func (l *callLoad) loop(ctx context.Context, c *conn) {
	release := c.stopOn(ctx)
	defer func() {
		release()
		c.shutdown(time.Second)
	}()
	k := l.r.o.Inflight
	pending := make(map[uint64]time.Time, k)
	var nextID uint64 = 1
	var req []byte
	send := func(now time.Time) {
		req = l.request(req[:0], nextID)
		c.queue(ws.OpText, req)
		pending[nextID] = now
		nextID++
	}
	now := time.Now()
	for range k {
		send(now)
	}
	if err := c.flush(); err != nil {
		l.r.connError(ctx, c, err)
		return
	}
	lat := make([]time.Duration, 0, k)
	codes := make(map[string]int64)
	for {
		lat = lat[:0]
		clear(codes)
		now = time.Time{}
		err := c.read(func(ev ws.Event) {
			if now.IsZero() {
				now = time.Now()
			}
			var rep callReply
			if json.Unmarshal(ev.Payload, &rep) != nil {
				l.r.errs.Add("reply is not a JSON object", 1)
				return
			}
			if rep.Ch != "" {
				return // a publication: not for us
			}
			id, perr := strconv.ParseUint(string(rep.ID), 10, 64)
			t0, ok := pending[id]
			if perr != nil || !ok {
				l.r.errs.Add("reply with an unknown id", 1)
				return
			}
			delete(pending, id)
			lat = append(lat, now.Sub(t0))
			if rep.Error != nil {
				codes[rep.Error.Code]++
			} else {
				codes["ok"]++
			}
			if ctx.Err() == nil {
				send(now)
			}
		})
		if len(lat) > 0 {
			l.r.lat.RecordBatch(c.id, lat)
			for code, n := range codes {
				l.codes.Add(code, n)
			}
		}
		if err == nil {
			err = c.flush()
		}
		if err != nil {
			l.r.connError(ctx, c, err)
			return
		}
	}
}

// runCall is "wsgate bench call".
func (r *runner) runCall(ctx context.Context) (*Result, error) {
	l := newCallLoad(r)
	conns, st, err := r.openAll(ctx, r.o.Conns, 16<<10, []string{subprotocolV1})
	if err != nil {
		return nil, err
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { l.loop(loadCtx, c) })
	}
	w, werr := r.measure(ctx, func() string { return "" })
	stopLoad()
	wg.Wait()
	res := r.result(st, w, r.lat.Window())
	res.Inflight, res.Method = r.o.Inflight, r.o.Method
	res.Codes = l.codes.Snapshot()
	res.Errors = r.errs.Snapshot()
	if werr != nil {
		return res, werr
	}
	return res, r.failIfErrors()
}
