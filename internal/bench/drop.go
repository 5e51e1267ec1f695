package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wsgate/wsgate/client"
)

// fanout's drop mode (--drop-every, --drop-for): the subscribers are Go
// clients (package client) whose network goes down on a schedule of
// their own. Each subscriber's TCP connections go through a dropLink,
// its Options.NetDial: when a drop begins, the link resets them (SO_LINGER
// 0, so the kernel sends an RST and neither side gets a Close frame) and
// refuses the subscriber's dials until the drop ends; the client
// reconnects by itself, with its usual backoff, and resumes its
// subscription with since. The publisher (the failover run's) numbers its
// publications, so every subscriber's stream is checked for what was
// lost, received twice or out of order.

// dropTail bounds the wait, once publishing stopped, for every
// subscriber to have every acknowledged publication: twice the clients'
// longest backoff (one attempt may still go to a node that died) and
// dropTailMargin.
func dropTail(backoffMax time.Duration) time.Duration {
	if backoffMax <= 0 {
		backoffMax = client.DefaultBackoffMax
	}
	return 2*backoffMax + dropTailMargin
}

const dropTailMargin = 15 * time.Second

// errDropped is what a subscriber's dial returns while its network is down.
var errDropped = errors.New("bench: network down (drop mode): dial refused")

// dropLink is one subscriber's network: the connections it opened and
// whether it is down. Its methods are safe for concurrent use.
type dropLink struct {
	dialer *net.Dialer

	mu    sync.Mutex
	down  bool
	conns map[*dropConn]struct{} // open connections
}

func newDropLink(d *net.Dialer) *dropLink {
	return &dropLink{dialer: d, conns: make(map[*dropConn]struct{})}
}

// dial is the subscriber's Options.NetDial.
func (l *dropLink) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	l.mu.Lock()
	down := l.down
	l.mu.Unlock()
	if down {
		return nil, errDropped
	}
	nc, err := l.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	dc := &dropConn{Conn: nc, l: l}
	l.mu.Lock()
	if l.down { // the drop began while it dialed
		l.mu.Unlock()
		reset(nc)
		return nil, errDropped
	}
	l.conns[dc] = struct{}{}
	l.mu.Unlock()
	return dc, nil
}

// cut takes the network down and resets every open connection; it
// returns how many there were.
func (l *dropLink) cut() int {
	l.mu.Lock()
	l.down = true
	conns := l.conns
	l.conns = make(map[*dropConn]struct{})
	l.mu.Unlock()
	for dc := range conns {
		reset(dc.Conn)
	}
	return len(conns)
}

// restore brings the network back: dials go through again.
func (l *dropLink) restore() {
	l.mu.Lock()
	l.down = false
	l.mu.Unlock()
}

// reset closes nc abortively: with SO_LINGER 0 the kernel drops what is
// unsent and sends an RST, not a FIN.
func reset(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	nc.Close()
}

// dropConn is a connection of a dropLink; closing it forgets it.
type dropConn struct {
	net.Conn
	l *dropLink
}

func (c *dropConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// dropSub is a subscriber's drop schedule and what its drops cost. Its
// fields are guarded by the failoverSub's mu.
type dropSub struct {
	link *dropLink

	drops    int64 // drops begun
	reset    int64 // connections reset by them
	conns    int64 // connections made (StateConnected)
	pubsConn int64 // publications received since the last connection
	// recoveredFalse counts KindGap messages that came first on a new
	// connection: the server answered the resume with recovered:false.
	recoveredFalse int64
	marks          []dropMark // drops ended whose catch-up has not come
	reconnect      []time.Duration
	replay         []time.Duration
	catchUp        []time.Duration
}

// dropMark is a drop that ended at end, when the publisher had begun
// publications 0 to target.
type dropMark struct {
	end       time.Time
	target    int64
	connected time.Time // the last connection after end, until replayed
	replayed  bool      // a publication came on it
}

func (d *dropSub) connected(now time.Time) {
	d.conns++
	d.pubsConn = 0
	for i := range d.marks {
		m := &d.marks[i]
		if m.connected.IsZero() {
			d.reconnect = append(d.reconnect, now.Sub(m.end))
		}
		if !m.replayed {
			// The replay runs from the connection that brings the
			// first publication: one lost before it (to the next
			// drop) brought nothing.
			m.connected = now
		}
	}
}

func (d *dropSub) gap() {
	if d.conns > 1 && d.pubsConn == 0 {
		d.recoveredFalse++
	}
}

// publication records publication n received at now; fresh is false for
// a duplicate.
func (d *dropSub) publication(n int64, fresh bool, now time.Time) {
	d.pubsConn++
	if !fresh {
		return
	}
	keep := d.marks[:0]
	for _, m := range d.marks {
		if !m.connected.IsZero() && !m.replayed {
			d.replay = append(d.replay, now.Sub(m.connected))
			m.replayed = true
		}
		if n >= m.target {
			d.catchUp = append(d.catchUp, now.Sub(m.end))
			continue
		}
		keep = append(keep, m)
	}
	d.marks = keep
}

// jitter returns d spread by up to frac of it either way.
func jitter(d time.Duration, frac float64, rnd *rand.Rand) time.Duration {
	return time.Duration(float64(d) * (1 + frac*(2*rnd.Float64()-1)))
}

// schedule runs s's drops until windowEnd: the first begins after a
// random part of --drop-every (all together at --drop-every when
// --drop-jitter is 0), each lasts --drop-for and the next begins
// --drop-every after the one before, both spread by --drop-jitter. A
// drop under way at windowEnd runs to its end. It returns at once when
// ctx ends, the network restored.
func (f *failoverRun) schedule(ctx context.Context, s *failoverSub, windowEnd time.Time, seed uint64) {
	o := f.r.o
	rnd := rand.New(rand.NewPCG(seed, seed>>1|1))
	wait := o.DropEvery
	if o.DropJitter > 0 {
		wait = time.Duration(rnd.Float64() * float64(o.DropEvery))
	}
	for {
		if time.Until(windowEnd) < wait {
			return // no drop begins after the window
		}
		sleepCtx(ctx, wait)
		if ctx.Err() != nil {
			return
		}
		start := time.Now()
		n := s.drop.link.cut()
		s.mu.Lock()
		s.drop.drops++
		s.drop.reset += int64(n)
		s.mu.Unlock()
		sleepCtx(ctx, jitter(o.DropFor, o.DropJitter, rnd))
		// The mark goes in before the network comes back, so that the
		// next connection finds it.
		s.mu.Lock()
		end := time.Now()
		s.drop.marks = append(s.drop.marks, dropMark{end: end, target: f.started.Load() - 1})
		s.mu.Unlock()
		s.drop.link.restore()
		wait = jitter(o.DropEvery, o.DropJitter, rnd) - end.Sub(start)
	}
}

// seeds turns fanout's ws://host:port/ws URLs into the Go client's
// seeds, http://host:port.
func seeds(urls []string) []string {
	out := make([]string, len(urls))
	for i, u := range urls {
		u = strings.TrimSuffix(strings.TrimSuffix(u, "/"), "/ws")
		if rest, ok := strings.CutPrefix(u, "wss://"); ok {
			u = "https://" + rest
		} else if rest, ok := strings.CutPrefix(u, "ws://"); ok {
			u = "http://" + rest
		}
		out[i] = u
	}
	return out
}

// runDrop is "wsgate bench fanout --drop-every D --drop-for D".
func (r *runner) runDrop(ctx context.Context) (*Result, error) {
	r.o.URLs = seeds(r.o.URLs)
	o := r.o
	f := &failoverRun{r: r, refusalsReported: true}
	f.newSub = func(i int) *failoverSub {
		return &failoverSub{drop: &dropSub{link: newDropLink(r.t.dialer(i))}}
	}
	lr, err := f.launch(ctx)
	if err != nil {
		return nil, err
	}
	defer lr.stopPublishing()
	st, pub := lr.storm, lr.pub

	// The window: drops for --duration; the last ones run to their end.
	before := f.perNode(func(s *failoverSub) string { return s.node })
	windowStart := time.Now()
	windowEnd := windowStart.Add(o.Duration)
	var drops sync.WaitGroup
	seed := rand.Uint64()
	for i, s := range f.subs {
		drops.Go(func() { f.schedule(ctx, s, windowEnd, seed+uint64(i)) })
	}
	stopProgress := r.everySecond(func(el time.Duration) {
		var down, n int
		for _, s := range f.subs {
			s.mu.Lock()
			n += int(s.drop.drops)
			if s.node == "" {
				down++
			}
			s.mu.Unlock()
		}
		f.pubMu.Lock()
		acked := f.ackedN
		f.pubMu.Unlock()
		fmt.Fprintf(r.stderr, "fanout  drops %4.0fs  %s published  %s drops  %s subscribers disconnected  errors %s\n",
			el.Seconds(), commas(acked), commas(int64(n)), commas(int64(down)), commas(r.errs.Total()))
	})
	drops.Wait()
	window := time.Since(windowStart)
	lr.stopPublishing()
	tailStart := time.Now()
	for tail := tailStart.Add(dropTail(o.BackoffMax)); !f.caughtUp() && time.Now().Before(tail) && ctx.Err() == nil; {
		time.Sleep(20 * time.Millisecond)
	}
	tailTime := time.Since(tailStart)
	stopProgress()
	after := f.perNode(func(s *failoverSub) string { return s.node })
	cpu := lr.clientCPU()
	pub.close()
	f.closeAll()

	res := f.dropResult(st)
	d := res.Drop
	d.Publisher = pub.describe()
	d.TailS = tailTime.Seconds()
	d.Before, d.After = before, after
	res.WarmupS, res.DurationS = lr.warmup.Seconds(), window.Seconds()
	res.MsgsPerS = perSecond(res.Msgs, lr.warmup+window)
	res.ClientCPUS = cpu.Seconds()
	res.WholeRun.Seconds = time.Since(lr.start).Seconds()
	res.Errors = r.errs.Snapshot()
	if err := d.verdict(); err != nil {
		return res, err
	}
	return res, r.failIfErrors()
}

// caughtUp reports whether every subscriber has every acknowledged
// publication or, when it was told of a gap, the last one: what it
// missed will not come any more.
func (f *failoverRun) caughtUp() bool {
	f.pubMu.Lock()
	acked := slices.Clone(f.acked)
	f.pubMu.Unlock()
	want := acked.count()
	last := int64(-1)
	for i := len(acked) - 1; i >= 0 && last < 0; i-- {
		if acked[i] != 0 {
			last = int64(i*64 + 63 - bits.LeadingZeros64(acked[i]))
		}
	}
	for _, s := range f.subs {
		s.mu.Lock()
		ok := s.got.countAnd(acked) == want || (s.gaps > 0 && last >= 0 && s.got.has(last))
		s.mu.Unlock()
		if !ok {
			return false
		}
	}
	return true
}

// verdict is the run's failure, if any: no publication acknowledged, a
// publication received twice or out of order, or one lost by a
// subscriber that was not told of a gap.
func (d *DropResult) verdict() error {
	if d.Published == 0 {
		return fmt.Errorf("bench: drops: no publication was acknowledged (%s refused, %s of unknown outcome)", commas(d.PublishFailed), commas(d.PublishUnknown))
	}
	if d.Duplicated > 0 || d.OutOfOrder > 0 || d.Lost > d.LostAfterGap {
		return fmt.Errorf("bench: drops: delivered %.3f %%: lost %s without a gap reported, duplicated %s, out of order %s",
			d.DeliveredPct, commas(d.Lost-d.LostAfterGap), commas(d.Duplicated), commas(d.OutOfOrder))
	}
	return nil
}

// dropResult computes the report once the clients are closed.
func (f *failoverRun) dropResult(st storm) *Result {
	o := f.r.o
	res := &Result{
		Command: o.Cmd.String(),
		URL:     o.URL,
		Conns:   o.Conns,
		Channel: o.Channel,
		Storm:   StormResult{Opened: st.Opened, Seconds: st.Elapsed.Seconds(), PerS: st.PerSecond(), HandshakeL: latencyUS(st.Handshake)},
	}
	d := &DropResult{Rate: o.Rate, EveryMS: ms(o.DropEvery), ForMS: ms(o.DropFor), Jitter: o.DropJitter, BackoffMaxMS: ms(o.BackoffMax)}
	f.pubMu.Lock()
	d.Published, d.PublishUnknown, d.PublishFailed = f.ackedN, f.unknown, f.failed
	acked, unsure := f.acked, f.unsure
	f.pubMu.Unlock()
	var seen bitset // unsure numbers some subscriber received
	var reconnect, replay, catchUp []time.Duration
	for _, s := range f.subs {
		s.mu.Lock()
		res.Msgs += s.received + s.dup
		got := acked.countAnd(s.got)
		lost := acked.count() - got
		d.Expected += acked.count()
		d.Delivered += got
		d.Lost += lost
		if s.gaps > 0 {
			d.LostAfterGap += lost
		}
		d.Duplicated += s.dup
		d.OutOfOrder += s.ooo
		d.Gaps += s.gaps
		d.Ended += s.ended
		d.Unnumbered += s.bad
		if lost > 0 || s.dup > 0 || s.ooo > 0 {
			d.SubscribersHit++
		}
		for i := range min(len(unsure), len(s.got)) {
			if i >= len(seen) {
				seen = append(seen, 0)
			}
			seen[i] |= unsure[i] & s.got[i]
		}
		sd := s.drop
		d.Drops += sd.drops
		d.ConnsReset += sd.reset
		d.RecoveredFalse += sd.recoveredFalse
		d.NotCaughtUp += int64(len(sd.marks))
		reconnect = append(reconnect, sd.reconnect...)
		replay = append(replay, sd.replay...)
		catchUp = append(catchUp, sd.catchUp...)
		s.mu.Unlock()
	}
	d.UnknownDelivered = seen.count()
	if d.Expected > 0 {
		d.DeliveredPct = 100 * float64(d.Delivered) / float64(d.Expected)
	}
	d.ReconnectMS, d.ReplayMS, d.CatchUpMS = millisSummary(reconnect), millisSummary(replay), millisSummary(catchUp)
	res.Drop = d
	return res
}

// DropResult is what fanout's drop mode saw: the drops, then per
// subscriber the publications acknowledged to the publisher that it
// received, lost, received twice or out of order (summed over the
// subscribers).
type DropResult struct {
	Rate         float64 `json:"rate"`           // publications per second asked for
	Publisher    string  `json:"publisher"`      // how publications were made
	EveryMS      float64 `json:"every_ms"`       // --drop-every
	ForMS        float64 `json:"for_ms"`         // --drop-for
	Jitter       float64 `json:"jitter"`         // --drop-jitter, a fraction of both
	BackoffMaxMS float64 `json:"backoff_max_ms"` // --backoff-max; 0: the Go client's default
	// Before and After count the subscribers per node as the drops
	// begin and at the end ("none": not connected).
	Before     map[string]int `json:"before"`
	After      map[string]int `json:"after"`
	Drops      int64          `json:"drops"`       // drops begun, over all subscribers
	ConnsReset int64          `json:"conns_reset"` // connections reset by them (none while a client was already away)

	Published        int64 `json:"published"`         // publications acknowledged
	PublishUnknown   int64 `json:"publish_unknown"`   // answer lost: made or not
	PublishFailed    int64 `json:"publish_failed"`    // refused by the server
	UnknownDelivered int64 `json:"unknown_delivered"` // of PublishUnknown, received by some subscriber

	// Expected is Published times the subscribers; Delivered the
	// acknowledged publications received, each counted once per
	// subscriber; DeliveredPct = 100 × Delivered / Expected.
	Expected     int64   `json:"expected"`
	Delivered    int64   `json:"delivered"`
	DeliveredPct float64 `json:"delivered_pct"`
	// Lost is Expected - Delivered; LostAfterGap the part of it lost by
	// subscribers that were told of a gap (KindGap): explicit, not silent.
	Lost           int64 `json:"lost"`
	LostAfterGap   int64 `json:"lost_after_gap"`
	Duplicated     int64 `json:"duplicated"`   // received again
	OutOfOrder     int64 `json:"out_of_order"` // seq not above the one before, within an epoch
	SubscribersHit int   `json:"subscribers_hit"`
	// Gaps counts KindGap messages; RecoveredFalse those that came first
	// on a new connection: the server answered a resume with
	// recovered:false (beyond the history, or another epoch).
	Gaps           int64 `json:"gaps"`
	RecoveredFalse int64 `json:"recovered_false"`
	Ended          int64 `json:"ended"`                // subscriptions the server refused to restore
	Unnumbered     int64 `json:"unnumbered,omitempty"` // publications without {"n":N}

	// Per drop: ReconnectMS runs from its end to the client's next
	// connection (the client's backoff and a dial); ReplayMS from the
	// connection that brought the first publication after the drop to
	// that publication (the resume with since answered and the first
	// missed publication replayed: the server's part); CatchUpMS from the end of the drop to the receipt of a
	// publication at least as new as the newest the publisher had begun
	// by then (everything missed has arrived: the sum of both and the
	// rest of the replay). A client away for several drops gives each
	// of them a sample at its next connection. NotCaughtUp counts drops
	// whose catch-up never came.
	ReconnectMS *MillisSummary `json:"reconnect_ms,omitempty"`
	ReplayMS    *MillisSummary `json:"replay_ms,omitempty"`
	CatchUpMS   *MillisSummary `json:"catch_up_ms,omitempty"`
	NotCaughtUp int64          `json:"not_caught_up"`
	// TailS is how long, after publishing stopped, it took every
	// subscriber to have every acknowledged publication (at most twice
	// the clients' longest backoff and 15 s; a subscriber still away
	// then, After["none"], counts what it has not received as lost).
	TailS float64 `json:"tail_s"`
}

// writeDropText prints a drop run's report for a person.
func (res *Result) writeDropText(w io.Writer) error {
	d := res.Drop
	var b reportText
	row := b.row
	fmt.Fprintf(&b, "%s %s (drop mode)\n", res.Command, res.URL)
	b.loadRow(res, d.Rate, d.Publisher)
	backoff := "the client's default"
	if d.BackoffMaxMS > 0 {
		backoff = fmtDur(time.Duration(d.BackoffMaxMS * float64(time.Millisecond)))
	}
	row("drops", "each subscriber cut for %s every %s (±%.0f %%), %s drops in %.1fs, %s connections reset; backoff max %s",
		fmtDur(time.Duration(d.ForMS*float64(time.Millisecond))), fmtDur(time.Duration(d.EveryMS*float64(time.Millisecond))), 100*d.Jitter,
		commas(d.Drops), res.DurationS, commas(d.ConnsReset), backoff)
	row("nodes", "%s as the drops began; %s at the end", nodeCounts(d.Before), nodeCounts(d.After))
	st := res.Storm
	row("connected", "%s in %.2fs (dial and subscribe p50 %s, p99 %s)", commas(int64(st.Opened)), st.Seconds, latencyText(st.HandshakeL, 50), latencyText(st.HandshakeL, 99))
	row("published", "%s acknowledged, %s of unknown outcome (%s of them delivered), %s refused",
		commas(d.Published), commas(d.PublishUnknown), commas(d.UnknownDelivered), commas(d.PublishFailed))
	row("delivered", "%.3f %% (%s of %s); lost %s, duplicated %s, out of order %s (%s subscribers affected)",
		d.DeliveredPct, commas(d.Delivered), commas(d.Expected), commas(d.Lost), commas(d.Duplicated), commas(d.OutOfOrder), commas(int64(d.SubscribersHit)))
	row("gaps", "%s (%s resumes answered recovered:false), %s subscriptions ended", commas(d.Gaps), commas(d.RecoveredFalse), commas(d.Ended))
	if away := d.After["none"]; away > 0 {
		row("", "%s subscribers were still away at the end (reconnecting): what they had not received counts as lost", commas(int64(away)))
	}
	if d.LostAfterGap > 0 {
		row("", "%s of the publications lost were lost by subscribers told of a gap: beyond the history (--history-size, --history-age); the app refetches", commas(d.LostAfterGap))
	}
	row("reconnect", "%s   (end of a drop → the client's next connection)", millisText(d.ReconnectMS, "drops"))
	row("replay", "%s   (that connection → the first publication on it: resumed with since)", millisText(d.ReplayMS, "drops"))
	row("catch-up", "%s   (end of a drop → every publication made before it ended; %s never)", millisText(d.CatchUpMS, "drops"), commas(d.NotCaughtUp))
	row("tail", "%.1fs after publishing stopped until every subscriber had every publication", d.TailS)
	row("client CPU", "%.2fs", res.ClientCPUS)
	row("errors", "%s", errorsText(res.Errors))
	_, err := io.WriteString(w, b.String())
	return err
}
