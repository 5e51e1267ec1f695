package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgate/wsgate/ws"
)

// subprotocolV1 is offered on /ws; wsgate selects it, other servers may
// ignore it.
const subprotocolV1 = "wsgate.v1"

// callLoad is the state a call run shares between its connections. A
// pub run is a call run whose requests are pubs, each on the next of
// --channels channels.
type callLoad struct {
	r      *runner
	prefix []byte   // `","call":"M"` … written after the id; pub: `,"pub":"PREFIX.`
	suffix []byte   // `,"args":A}` or `}`; pub: `","data":{…}}`
	codes  tally    // replies by error code, "ok" for results
	hitLat *latency // with --miss-ratio: calls sent without a nonce
	nonce  atomic.Uint64

	pub      bool          // requests are pubs
	channels uint64        // pub: how many channels
	channel  atomic.Uint64 // pub: the channel of the next pub, modulo channels
}

func newCallLoad(r *runner) *callLoad {
	l := &callLoad{r: r, hitLat: newLatency()}
	if r.o.Cmd == CmdPub {
		l.pub, l.channels = true, uint64(r.o.Channels)
		l.prefix = fmt.Appendf(nil, `,"pub":"%s.`, r.o.Channel)
		l.suffix = fmt.Appendf(nil, `","data":{"p":"%s"}}`, strings.Repeat("x", r.o.Size))
		return l
	}
	// Nonces start at a random point, so that a run does not hit what an
	// earlier run against the same server cached.
	l.nonce.Store(rand.Uint64() >> 1)
	l.prefix = append([]byte(`,"call":`), strconv.Quote(r.o.Method)...)
	if len(r.o.Args) > 0 {
		l.suffix = append(append([]byte(`,"args":`), r.o.Args...), '}')
	} else {
		l.suffix = []byte{'}'}
	}
	return l
}

// request appends {"id":id,"call":M,"args":A} to dst; with miss, A gets
// a unique "nonce" member.
func (l *callLoad) request(dst []byte, id uint64, miss bool) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, l.prefix...)
	if l.pub {
		dst = strconv.AppendUint(dst, l.channel.Add(1)%l.channels, 10)
		return append(dst, l.suffix...)
	}
	if !miss {
		return append(dst, l.suffix...)
	}
	dst = append(dst, `,"args":`...)
	dst = argsWithNonce(dst, l.r.o.Args, l.nonce.Add(1))
	return append(dst, '}')
}

// parseReply reads the id and error code of a reply. The usual shapes,
// {"id":N,"result":…} and {"id":N,"error":{"code":"C",…}}, are read from
// their first bytes, so that the load generator, not the server, does not
// become the bottleneck decoding large results; anything else is decoded
// with encoding/json. pub is true for a publication, which is no reply.
func parseReply(b []byte) (id uint64, code string, pub bool, err error) {
	const head, result, errHead = `{"id":`, `,"result":`, `,"error":{"code":"`
	if len(b) > len(head) && string(b[:len(head)]) == head && b[len(b)-1] == '}' {
		i := len(head)
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if n, perr := strconv.ParseUint(string(b[len(head):i]), 10, 64); perr == nil {
			rest := b[i:]
			switch {
			case len(rest) > len(result) && string(rest[:len(result)]) == result:
				return n, "ok", false, nil
			case len(rest) > len(errHead) && string(rest[:len(errHead)]) == errHead:
				rest = rest[len(errHead):]
				if j := bytes.IndexByte(rest, '"'); j > 0 {
					return n, string(rest[:j]), false, nil
				}
			}
		}
	}
	var rep callReply
	if err := json.Unmarshal(b, &rep); err != nil {
		return 0, "", false, err
	}
	if rep.Ch != "" {
		return 0, "", true, nil
	}
	id, err = strconv.ParseUint(string(rep.ID), 10, 64)
	if err != nil {
		return 0, "", false, err
	}
	if rep.Error != nil {
		return id, rep.Error.Code, false, nil
	}
	return id, "ok", false, nil
}

// sent is a call in flight.
type sent struct {
	at   time.Time
	miss bool // sent with a nonce
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
	pending := make(map[uint64]sent, k)
	var nextID uint64 = 1
	var req []byte
	missRatio := l.r.o.MissRatio
	send := func(now time.Time) {
		miss := missRatio > 0 && rand.Float64() < missRatio
		req = l.request(req[:0], nextID, miss)
		c.queue(ws.OpText, req)
		pending[nextID] = sent{at: now, miss: miss}
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
	hitLat := make([]time.Duration, 0, k)
	codes := make(map[string]int64)
	for {
		lat, hitLat = lat[:0], hitLat[:0]
		clear(codes)
		now = time.Time{}
		err := c.read(func(ev ws.Event) {
			if now.IsZero() {
				now = time.Now()
			}
			id, code, pub, perr := parseReply(ev.Payload)
			if pub {
				return // a publication: not for us
			}
			if perr != nil {
				l.r.errs.Add("reply is not a JSON object with a numeric id", 1)
				return
			}
			s, ok := pending[id]
			if !ok {
				l.r.errs.Add("reply with an unknown id", 1)
				return
			}
			delete(pending, id)
			lat = append(lat, now.Sub(s.at))
			if !s.miss {
				hitLat = append(hitLat, now.Sub(s.at))
			}
			codes[code]++
			if ctx.Err() == nil {
				send(now)
			}
		})
		if len(lat) > 0 {
			l.r.lat.RecordBatch(c.id, lat)
			if missRatio > 0 {
				l.hitLat.RecordBatch(c.id, hitLat)
			}
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

// runCall is "wsgate bench call", and "wsgate bench pub".
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
	var c0, c1 cacheCounters
	var cerr error
	r.windowHook = func(open bool) {
		l.hitLat.SetMeasuring(open)
		if cerr != nil || l.pub {
			return
		}
		if open {
			c0, cerr = scrapeCache(ctx, r.o.MetricsURL)
		} else {
			c1, cerr = scrapeCache(ctx, r.o.MetricsURL)
		}
	}
	w, werr := r.measure(ctx, func() string { return "" })
	stopLoad()
	wg.Wait()
	res := r.result(st, w, r.lat.Window())
	res.Inflight = r.o.Inflight
	switch {
	case l.pub:
		res.Channel, res.Channels, res.Size = r.o.Channel, r.o.Channels, r.o.Size
	case cerr != nil:
		res.CacheError = cerr.Error()
	default:
		res.Cache = c1.delta(c0)
	}
	if !l.pub {
		res.Method, res.MissRatio = r.o.Method, r.o.MissRatio
	}
	if r.o.MissRatio > 0 {
		res.HitLatency = latencyUS(l.hitLat.Window())
	}
	res.Codes = l.codes.Snapshot()
	res.Errors = r.errs.Snapshot()
	if werr != nil {
		return res, werr
	}
	return res, r.failIfErrors()
}
