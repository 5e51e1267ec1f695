package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgate/wsgate/client"
	"github.com/wsgate/wsgate/internal/fdlimit"
)

// A failover run ends failoverSettle after every client that lost its
// connection has resumed (or at the end of --duration), and then waits
// at most failoverTail for the last acknowledged publications to reach
// every subscriber.
const (
	failoverSettle = 3 * time.Second
	failoverTail   = 5 * time.Second
	// failoverPublishTimeout bounds one publication, the wait for the
	// publisher's next connection included.
	failoverPublishTimeout = 10 * time.Second
	// failoverInflight bounds the publications waiting for their answer,
	// so that the rate does not depend on the publisher's round trip.
	failoverInflight = 32
)

// failoverRun is the state of "wsgate bench failover": Go clients
// subscribed to one channel, a Go client publishing numbered
// publications on it, and what each subscriber saw.
type failoverRun struct {
	r     *runner
	ready atomic.Bool // clients per node were counted: losses count from now
	subs  []*failoverSub
	// newSub, when set, makes subscriber i (fanout's drop mode gives
	// each one a network of its own).
	newSub func(i int) *failoverSub
	// refusalsReported: a publication the server refused is counted in
	// the report, not as an error of the run (drop mode, where a node
	// killed midway refuses what it was making).
	refusalsReported bool
	started          atomic.Int64 // publications whose publishing began: numbers 0 to started-1

	mu        sync.Mutex // guards the fields below
	firstLoss time.Time  // the first StateDisconnected of a subscriber after ready
	lastLoss  time.Time  // the last one

	pubMu   sync.Mutex // guards the publisher's counts
	acked   bitset     // numbers of the publications acknowledged
	unsure  bitset     // numbers of those of unknown outcome
	ackedN  int64
	unknown int64 // connection lost or timed out before the answer
	failed  int64 // refused by the server
}

// failoverSub is one subscriber and what it saw. Its handler and OnState
// run on its Client's dispatcher, one at a time and in order, so a
// publication that follows a StateConnected came on that connection.
type failoverSub struct {
	c    *client.Client
	drop *dropSub // fanout's drop mode only

	mu          sync.Mutex
	node        string    // the node in use; "" while there is none
	before      string    // the node in use when the clients were counted
	lostAt      time.Time // its first disconnection after ready
	connectedAt time.Time // its first connection after lostAt
	resumedAt   time.Time // its first publication after connectedAt
	got         bitset    // numbers of the publications received
	received    int64
	lastSeq     uint64 // seq of the last publication received
	dup, ooo    int64  // numbers received twice; seqs not above lastSeq
	gaps, ended int64  // KindGap and KindEnded messages
	bad         int64  // publications without a number
}

func (f *failoverRun) onState(s *failoverSub, e client.StateEvent) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e.State {
	case client.StateConnected:
		s.node = e.Node
		if s.drop != nil {
			s.drop.connected(now)
		}
		if !s.lostAt.IsZero() && s.connectedAt.IsZero() {
			s.connectedAt = now
		}
	case client.StateDisconnected:
		s.node = ""
		if f.ready.Load() && s.lostAt.IsZero() {
			s.lostAt = now
			f.mu.Lock()
			if f.firstLoss.IsZero() {
				f.firstLoss = now
			}
			f.lastLoss = now
			f.mu.Unlock()
		}
	}
}

func (f *failoverRun) onMessage(s *failoverSub, m client.Message) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch m.Kind {
	case client.KindGap:
		s.gaps++
		s.lastSeq = 0 // the numbering may restart (a new epoch)
		if s.drop != nil {
			s.drop.gap()
		}
		return
	case client.KindEnded:
		s.ended++
		f.r.errs.Add("subscription ended: "+shortErr(m.Err), 1)
		return
	}
	n, ok := publicationNumber(m.Data)
	if !ok {
		s.bad++
		return
	}
	fresh := !s.got.has(n)
	if fresh {
		s.got.set(n)
		s.received++
	} else {
		s.dup++
	}
	if s.drop != nil {
		s.drop.publication(n, fresh, now)
	}
	if m.Pos.Seq <= s.lastSeq {
		s.ooo++
	}
	s.lastSeq = m.Pos.Seq
	if !s.connectedAt.IsZero() && s.resumedAt.IsZero() {
		s.resumedAt = now
	}
}

// publicationNumber reads n from a publication's data, {"n":N}.
func publicationNumber(data []byte) (int64, bool) {
	var d struct {
		N *int64 `json:"n"`
	}
	if json.Unmarshal(data, &d) != nil || d.N == nil || *d.N < 0 || *d.N > 1<<32 {
		return 0, false
	}
	return *d.N, true
}

// dialAll dials --conns clients, DialConcurrency at a time, each
// subscribed to the channel, and returns the storm's figures.
func (f *failoverRun) dialAll(ctx context.Context) (storm, error) {
	o := f.r.o
	f.subs = make([]*failoverSub, o.Conns)
	var (
		next, opened atomic.Int64
		mu           sync.Mutex
		firstErr     error
		wg           sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hist := newHistogram()
	start := time.Now()
	stopProgress := f.r.everySecond(func(el time.Duration) {
		fmt.Fprintf(f.r.stderr, "failover  connecting %4.0fs  %s/%s clients subscribed\n", el.Seconds(), commas(opened.Load()), commas(int64(o.Conns)))
	})
	for range min(o.DialConcurrency, o.Conns) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= o.Conns {
					return
				}
				s := &failoverSub{}
				if f.newSub != nil {
					s = f.newSub(i)
				}
				f.subs[i] = s
				t0 := time.Now()
				err := f.dialOne(ctx, s)
				if err != nil {
					mu.Lock()
					if firstErr == nil && ctx.Err() == nil {
						firstErr = err
						cancel()
					}
					mu.Unlock()
					return
				}
				opened.Add(1)
				mu.Lock()
				recordUS(hist, time.Since(t0))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	stopProgress()
	st := storm{Opened: int(opened.Load()), Elapsed: time.Since(start), Handshake: summarize(hist), hist: hist}
	if firstErr == nil && st.Opened < o.Conns {
		firstErr = context.Cause(ctx)
	}
	if firstErr != nil {
		if e := explainDialError(firstErr, st.Opened); e != nil {
			return st, e
		}
		return st, fmt.Errorf("bench: connect after %s clients: %w", commas(int64(st.Opened)), firstErr)
	}
	return st, nil
}

// dialOne dials s's client with default options (in drop mode its
// NetDial and --backoff-max) and subscribes it.
func (f *failoverRun) dialOne(ctx context.Context, s *failoverSub) error {
	dctx, cancel := context.WithTimeout(ctx, f.r.o.DialTimeout)
	defer cancel()
	opts := client.Options{OnState: func(e client.StateEvent) { f.onState(s, e) }}
	if s.drop != nil {
		opts.NetDial = s.drop.link.dial
		opts.BackoffMax = f.r.o.BackoffMax
	}
	c, err := client.Dial(dctx, f.r.o.URLs, opts)
	if err != nil {
		return err
	}
	s.c = c
	if _, err := c.Subscribe(dctx, f.r.o.Channel, func(m client.Message) { f.onMessage(s, m) }); err != nil {
		return err
	}
	return nil
}

// closeAll closes every client, 64 at a time (Close waits for the
// closing handshake).
func (f *failoverRun) closeAll() {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	closeOne := func(c *client.Client) {
		sem <- struct{}{}
		defer func() { <-sem }()
		c.Close()
	}
	for _, s := range f.subs {
		if s != nil && s.c != nil {
			wg.Go(func() { closeOne(s.c) })
		}
	}
	wg.Wait()
}

// everyReceived reports whether every subscriber received a
// publication and every one acknowledged so far.
func (f *failoverRun) everyReceived() bool {
	f.pubMu.Lock()
	acked := slices.Clone(f.acked)
	f.pubMu.Unlock()
	want := acked.count()
	for _, s := range f.subs {
		s.mu.Lock()
		ok := s.received > 0 && s.got.countAnd(acked) == want
		s.mu.Unlock()
		if !ok {
			return false
		}
	}
	return true
}

// perNode counts the subscribers by the node in use ("none" while a
// client has none).
func (f *failoverRun) perNode(node func(*failoverSub) string) map[string]int {
	m := make(map[string]int)
	for _, s := range f.subs {
		s.mu.Lock()
		n := node(s)
		s.mu.Unlock()
		if n == "" {
			n = "none"
		}
		m[n]++
	}
	return m
}

// moving counts the subscribers that lost their connection since ready
// and those of them that have not resumed yet.
func (f *failoverRun) moving() (lost, waiting int) {
	for _, s := range f.subs {
		s.mu.Lock()
		if !s.lostAt.IsZero() {
			lost++
			if s.resumedAt.IsZero() {
				waiting++
			}
		}
		s.mu.Unlock()
	}
	return lost, waiting
}

// busiest is the node holding the most clients in counts (ties: the
// first in name order).
func busiest(counts map[string]int) string {
	best := ""
	for _, n := range slices.Sorted(maps.Keys(counts)) {
		if n != "none" && (best == "" || counts[n] > counts[best]) {
			best = n
		}
	}
	return best
}

// writeReady writes node and a newline to path, through a temporary
// file renamed into place, so that a script polling for the file never
// reads half of it.
func writeReady(path, node string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ready-*")
	if err != nil {
		return fmt.Errorf("bench: --ready-file: %w", err)
	}
	_, err = tmp.WriteString(node + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("bench: --ready-file: %w", err)
	}
	return nil
}

// launched is a failover or drop run under way: its subscribers dialled,
// its publisher publishing, the warm-up over (every subscriber has a
// publication). Its fields are the run's; stopPublishing and finish may
// each be called more than once.
type launched struct {
	storm  storm
	pub    failoverPublisher
	start  time.Time     // when publishing began
	self0  procSample    // this process's CPU then
	warmup time.Duration // from start to the end of the warm-up

	stopPublishing func() // stops the publisher and waits for it
	finish         func() // stopPublishing, then closes the publisher and the subscribers
}

// launch dials the subscribers, starts the publisher at --rate and waits
// out the warm-up. On an error everything it started is closed.
func (f *failoverRun) launch(ctx context.Context) (*launched, error) {
	o := f.r.o
	st, err := f.dialAll(ctx)
	if err != nil {
		f.closeAll()
		return nil, err
	}
	pub, err := f.newPublisher(ctx)
	if err != nil {
		f.closeAll()
		return nil, err
	}
	lr := &launched{storm: st, pub: pub, start: time.Now()}
	lr.self0, _ = readProc(os.Getpid())
	stop, cancel := context.WithCancel(ctx)
	var pubWG sync.WaitGroup
	pubWG.Go(func() { f.pace(ctx, stop, pub) })
	lr.stopPublishing = func() {
		cancel()
		pubWG.Wait()
	}
	lr.finish = func() {
		lr.stopPublishing()
		pub.close()
		f.closeAll()
	}

	sleepCtx(ctx, o.Warmup)
	deadline := time.Now().Add(o.DialTimeout)
	for !f.everyReceived() && ctx.Err() == nil {
		if time.Now().After(deadline) {
			lr.finish()
			return nil, errors.New("bench: not every subscriber received a publication within --warmup plus --dial-timeout")
		}
		time.Sleep(20 * time.Millisecond)
	}
	lr.warmup = time.Since(lr.start)
	return lr, nil
}

// clientCPU is the CPU this process has used since the run began.
func (lr *launched) clientCPU() time.Duration {
	self1, err := readProc(os.Getpid())
	if err != nil {
		return 0
	}
	return self1.CPU() - lr.self0.CPU()
}

// runFailover is "wsgate bench failover".
func (r *runner) runFailover(ctx context.Context) (*Result, error) {
	o := r.o
	f := &failoverRun{r: r}
	lr, err := f.launch(ctx)
	if err != nil {
		return nil, err
	}
	defer lr.stopPublishing()
	st, pub, finish := lr.storm, lr.pub, lr.finish
	f.ready.Store(true)
	before := f.perNode(func(s *failoverSub) string { s.before = s.node; return s.node })
	if o.ReadyFile != "" {
		if err := writeReady(o.ReadyFile, busiest(before)); err != nil {
			finish()
			return nil, err
		}
	}
	fmt.Fprintf(r.stderr, "failover  ready: clients per node %s; kill or drain a node now\n", nodeCounts(before))

	// The window: until --duration, or failoverSettle after every client
	// that lost its connection has resumed.
	windowStart := time.Now()
	stopProgress := r.everySecond(func(el time.Duration) {
		lost, waiting := f.moving()
		f.pubMu.Lock()
		acked := f.ackedN
		f.pubMu.Unlock()
		fmt.Fprintf(r.stderr, "failover  %4.0fs  %s published  %s clients disconnected, %s of them not resumed  errors %s\n",
			el.Seconds(), commas(acked), commas(int64(lost)), commas(int64(waiting)), commas(r.errs.Total()))
	})
	var settledSince time.Time
	for ctx.Err() == nil && time.Since(windowStart) < o.Duration {
		if lost, waiting := f.moving(); lost == 0 || waiting > 0 {
			settledSince = time.Time{}
		} else if settledSince.IsZero() {
			settledSince = time.Now()
		} else if time.Since(settledSince) >= failoverSettle {
			break
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
	window := time.Since(windowStart)
	stopProgress()
	lr.stopPublishing()
	for tail := time.Now().Add(failoverTail); !f.everyReceived() && time.Now().Before(tail) && ctx.Err() == nil; {
		time.Sleep(20 * time.Millisecond)
	}
	after := f.perNode(func(s *failoverSub) string { return s.node })
	cpu := lr.clientCPU()
	pub.close()
	f.closeAll()

	res := f.result(st, before, after)
	res.Failover.Publisher = pub.describe()
	res.WarmupS, res.DurationS = lr.warmup.Seconds(), window.Seconds()
	res.MsgsPerS = perSecond(res.Msgs, lr.warmup+window)
	res.ClientCPUS = cpu.Seconds()
	res.WholeRun.Seconds = time.Since(lr.start).Seconds()
	res.Errors = r.errs.Snapshot()
	fo := res.Failover
	switch {
	case fo.NotResumed > 0:
		if limit := fdlimit.Open(); limit > 0 {
			if fds := openFiles(); fds+16 >= int(limit) {
				return res, &limitError{ErrOpenFileLimit, fmt.Sprintf("%s clients did not resume: this process holds %s open files of its limit of %s (ulimit -n); run fewer clients or raise the limit",
					commas(int64(fo.NotResumed)), commas(int64(fds)), commas(int64(limit)))}
			}
		}
		return res, fmt.Errorf("bench: failover: %s of the %s clients that lost their connection did not resume within the run", commas(int64(fo.NotResumed)), commas(int64(fo.Disconnected)))
	case fo.Lost > 0 || fo.Duplicated > 0 || fo.OutOfOrder > 0:
		return res, fmt.Errorf("bench: failover: publications lost %s, duplicated %s, out of order %s", commas(fo.Lost), commas(fo.Duplicated), commas(fo.OutOfOrder))
	}
	return res, r.failIfErrors()
}

// openFiles counts the file descriptors this process holds, or returns 0
// where it cannot.
func openFiles() int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(fds)
}

// result computes the report once the clients are closed.
func (f *failoverRun) result(st storm, before, after map[string]int) *Result {
	o := f.r.o
	res := &Result{
		Command: o.Cmd.String(),
		URL:     o.URL,
		Conns:   o.Conns,
		Channel: o.Channel,
		Storm:   StormResult{Opened: st.Opened, Seconds: st.Elapsed.Seconds(), PerS: st.PerSecond(), HandshakeL: latencyUS(st.Handshake)},
	}
	fo := &FailoverResult{Rate: o.Rate, Before: before, After: after}
	f.pubMu.Lock()
	fo.Published, fo.PublishUnknown, fo.PublishFailed = f.ackedN, f.unknown, f.failed
	acked, unsure := f.acked, f.unsure
	f.pubMu.Unlock()
	var seen bitset // unsure numbers some subscriber received
	f.mu.Lock()
	first, lastLoss := f.firstLoss, f.lastLoss
	f.mu.Unlock()
	var reconnect, resume []time.Duration
	for _, s := range f.subs {
		s.mu.Lock()
		res.Msgs += s.received + s.dup
		fo.Duplicated += s.dup
		fo.OutOfOrder += s.ooo
		fo.Gaps += s.gaps
		fo.Ended += s.ended
		fo.Unnumbered += s.bad
		lost := acked.count() - acked.countAnd(s.got)
		for i := range min(len(seen), len(s.got)) {
			seen[i] |= unsure[i] & s.got[i]
		}
		for i := len(seen); i < min(len(unsure), len(s.got)); i++ {
			seen = append(seen, unsure[i]&s.got[i])
		}
		fo.Lost += lost
		if lost > 0 || s.dup > 0 || s.ooo > 0 {
			fo.SubscribersHit++
		}
		if s.node != "" && s.node != s.before {
			fo.Moved++
		}
		if !s.lostAt.IsZero() {
			fo.Disconnected++
			if !s.connectedAt.IsZero() {
				reconnect = append(reconnect, s.connectedAt.Sub(first))
			}
			if s.resumedAt.IsZero() {
				fo.NotResumed++
			} else {
				resume = append(resume, s.resumedAt.Sub(first))
			}
		}
		s.mu.Unlock()
	}
	if !first.IsZero() {
		fo.LossSpreadMS = ms(lastLoss.Sub(first))
	}
	fo.UnknownDelivered = seen.count()
	fo.ReconnectMS, fo.ResumeMS = millisSummary(reconnect), millisSummary(resume)
	res.Failover = fo
	return res
}

// FailoverResult is what a failover run saw, from the moment every
// subscriber received publications (when clients per node are counted)
// to its end.
type FailoverResult struct {
	Rate      float64        `json:"rate"`      // publications per second asked for
	Publisher string         `json:"publisher"` // how publications were made
	Before    map[string]int `json:"before"`    // subscribers per node when ready
	After     map[string]int `json:"after"`     // at the end ("none": not connected)

	Disconnected int     `json:"disconnected"`   // subscribers that lost their connection
	Moved        int     `json:"moved"`          // subscribers connected to another node at the end
	NotResumed   int     `json:"not_resumed"`    // disconnected and no publication since
	LossSpreadMS float64 `json:"loss_spread_ms"` // from the first disconnection to the last
	// From the first disconnection of any subscriber to each one's new
	// connection, and to its first publication on it (replayed or live):
	// its subscription restored.
	ReconnectMS *MillisSummary `json:"reconnect_ms,omitempty"`
	ResumeMS    *MillisSummary `json:"resume_ms,omitempty"`

	Published      int64 `json:"published"`       // publications acknowledged
	PublishUnknown int64 `json:"publish_unknown"` // connection lost (or timed out) before the answer: made or not
	PublishFailed  int64 `json:"publish_failed"`  // refused by the server
	// UnknownDelivered counts the publications of unknown outcome that
	// some subscriber received: they were made, only the answer was lost.
	UnknownDelivered int64 `json:"unknown_delivered"`

	// Over all subscribers: acknowledged publications not received,
	// received twice, received with a seq not above the one before
	// (within an epoch); and the subscribers
	// with any of these.
	Lost           int64 `json:"lost"`
	Duplicated     int64 `json:"duplicated"`
	OutOfOrder     int64 `json:"out_of_order"`
	SubscribersHit int   `json:"subscribers_hit"`
	Gaps           int64 `json:"gaps"`                 // KindGap messages: the server could not replay
	Ended          int64 `json:"ended"`                // subscriptions the server refused to restore
	Unnumbered     int64 `json:"unnumbered,omitempty"` // publications without {"n":N}
}

// MillisSummary is a distribution of durations in milliseconds.
type MillisSummary struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

func millisSummary(d []time.Duration) *MillisSummary {
	if len(d) == 0 {
		return nil
	}
	slices.Sort(d)
	at := func(p int) float64 { return ms(d[(len(d)-1)*p/100]) }
	return &MillisSummary{Count: len(d), P50: at(50), P99: at(99), Max: ms(d[len(d)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// nodeCounts lists clients per node, "URL N, URL N", in name order.
func nodeCounts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	s := ""
	for _, n := range slices.Sorted(maps.Keys(m)) {
		if s != "" {
			s += ", "
		}
		s += n + " " + commas(int64(m[n]))
	}
	return s
}

// bitset is a set of small non-negative numbers.
type bitset []uint64

func (b *bitset) set(n int64) {
	i := int(n / 64)
	for len(*b) <= i {
		*b = append(*b, 0)
	}
	(*b)[i] |= 1 << (n % 64)
}

func (b bitset) has(n int64) bool {
	i := int(n / 64)
	return i < len(b) && b[i]&(1<<(n%64)) != 0
}

// count is the number of members.
func (b bitset) count() int64 {
	var n int
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return int64(n)
}

// countAnd is the number of members of both b and o.
func (b bitset) countAnd(o bitset) int64 {
	var n int
	for i := range min(len(b), len(o)) {
		n += bits.OnesCount64(b[i] & o[i])
	}
	return int64(n)
}

// reportText builds the text of a failover or drop run's report: rows
// of a name and what it says.
type reportText struct{ strings.Builder }

// row adds the line "  name  what", what formatted as with fmt.Sprintf.
func (b *reportText) row(name, format string, args ...any) {
	fmt.Fprintf(b, "  %-11s "+format+"\n", append([]any{name}, args...)...)
}

// loadRow adds the row that says who subscribed and who published.
func (b *reportText) loadRow(res *Result, rate float64, publisher string) {
	b.row("load", "%s Go clients subscribed to %q; %s/s published by %s", commas(int64(res.Conns)), res.Channel, strconv.FormatFloat(rate, 'f', -1, 64), publisher)
}

// writeFailoverText prints a failover run's report for a person.
func (res *Result) writeFailoverText(w io.Writer) error {
	fo := res.Failover
	var b reportText
	row := b.row
	fmt.Fprintf(&b, "%s %s\n", res.Command, res.URL)
	b.loadRow(res, fo.Rate, fo.Publisher)
	st := res.Storm
	row("connected", "%s in %.2fs (dial and subscribe p50 %s, p99 %s)", commas(int64(st.Opened)), st.Seconds, latencyText(st.HandshakeL, 50), latencyText(st.HandshakeL, 99))
	row("before", "%s", nodeCounts(fo.Before))
	fmt.Fprintf(&b, "  %.1fs from the first publication every client received to the end (after %.1fs of warm-up):\n", res.DurationS, res.WarmupS)
	if fo.Disconnected == 0 {
		row("event", "no client lost its connection")
	} else {
		row("event", "%s clients lost their connection (over %s from the first to the last), %s moved to another node, %s did not resume",
			commas(int64(fo.Disconnected)), fmtDur(time.Duration(fo.LossSpreadMS*float64(time.Millisecond))), commas(int64(fo.Moved)), commas(int64(fo.NotResumed)))
		row("reconnect", "%s   (first disconnection → each client's new connection)", millisText(fo.ReconnectMS, "clients"))
		row("resume", "%s   (first disconnection → its first publication there: subscription restored)", millisText(fo.ResumeMS, "clients"))
	}
	row("after", "%s", nodeCounts(fo.After))
	row("published", "%s acknowledged, %s of unknown outcome (connection lost before the answer; %s of them delivered), %s refused",
		commas(fo.Published), commas(fo.PublishUnknown), commas(fo.UnknownDelivered), commas(fo.PublishFailed))
	row("delivered", "%s; lost %s, duplicated %s, out of order %s (%s subscribers affected); %s gaps, %s subscriptions ended",
		commas(res.Msgs), commas(fo.Lost), commas(fo.Duplicated), commas(fo.OutOfOrder), commas(int64(fo.SubscribersHit)), commas(fo.Gaps), commas(fo.Ended))
	row("client CPU", "%.2fs", res.ClientCPUS)
	row("errors", "%s", errorsText(res.Errors))
	_, err := io.WriteString(w, b.String())
	return err
}

// millisText is "p50 X  p99 Y  max Z (N what)": what names the samples,
// "clients" or "drops".
func millisText(m *MillisSummary, what string) string {
	if m == nil {
		return "none"
	}
	d := func(v float64) string { return fmtDur(time.Duration(v * float64(time.Millisecond))) }
	return fmt.Sprintf("p50 %s  p99 %s  max %s (%s %s)", d(m.P50), d(m.P99), d(m.Max), commas(int64(m.Count)), what)
}

// latencyText is percentile p of l, or "-".
func latencyText(l *LatencyUS, p int) string {
	if l == nil {
		return "-"
	}
	if p == 50 {
		return fmtUS(l.P50)
	}
	return fmtUS(l.P99)
}
