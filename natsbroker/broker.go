package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wsgate/wsgate"
)

// Defaults of Options.
const (
	DefaultStream         = "WSGATE"
	DefaultSubjectPrefix  = "wsgate"
	DefaultHistoryAge     = 24 * time.Hour
	DefaultRequestTimeout = 5 * time.Second
	DefaultReconnectWait  = time.Second
	DefaultMaxPending     = 4096
)

// Options configure a Broker. The zero value connects to NATS on
// localhost:4222 (nats.DefaultURL) with the defaults below.
type Options struct {
	// URL lists the NATS servers to connect to, separated by commas
	// ("nats://a:4222,nats://b:4222"). Empty means nats.DefaultURL.
	URL string
	// CredsFile is a NATS credentials file (JWT and NKey seed) to
	// authenticate with. Empty: none.
	CredsFile string
	// TLSCAFile is a PEM file of the certificate authorities trusted for
	// the servers' TLS certificates. Empty: the system's, and TLS only
	// when a URL says tls://.
	TLSCAFile string
	// Name is the connection's name as NATS monitoring shows it. Empty
	// means "wsgate".
	Name string
	// HistorySize is how many of its latest publications each channel
	// keeps for resuming clients (the stream's MaxMsgsPerSubject). Zero
	// means wsgate.DefaultHistorySize.
	HistorySize int
	// HistoryAge is how long a publication is kept for resuming clients
	// (the stream's MaxAge). Zero means DefaultHistoryAge (24h).
	HistoryAge time.Duration
	// Stream is the name of the JetStream stream that holds every
	// channel's history. Empty means DefaultStream ("WSGATE"). All nodes
	// of a cluster must use the same Stream, SubjectPrefix, HistorySize
	// and HistoryAge: each node makes the stream so on start.
	Stream string
	// SubjectPrefix starts every subject the Broker uses: PREFIX.ch.>
	// for the stream, PREFIX.live.> for deliveries. Empty means
	// DefaultSubjectPrefix ("wsgate").
	SubjectPrefix string
	// MemoryStorage keeps the stream in the NATS servers' memory instead
	// of on their disks: faster, and lost when they restart.
	MemoryStorage bool
	// Replicas is the stream's number of replicas in a clustered
	// JetStream. Zero means 1.
	Replicas int
	// RequestTimeout bounds one NATS request (a publish's
	// acknowledgement, a history read) when the caller's context allows
	// longer. Zero means DefaultRequestTimeout (5s).
	RequestTimeout time.Duration
	// ReconnectWait is the pause between two attempts to reconnect to a
	// server. Zero means DefaultReconnectWait (1s). The Broker reconnects
	// for ever.
	ReconnectWait time.Duration
	// MaxPending bounds the publications waiting for NATS at once; more
	// fail at once with ErrUnavailable. Zero means DefaultMaxPending.
	MaxPending int
	// Logger receives the Broker's logs: connection changes, and
	// JetStream missing. Nil discards them.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.URL == "" {
		o.URL = nats.DefaultURL
	}
	if o.Name == "" {
		o.Name = "wsgate"
	}
	if o.HistorySize <= 0 {
		o.HistorySize = wsgate.DefaultHistorySize
	}
	if o.HistoryAge <= 0 {
		o.HistoryAge = DefaultHistoryAge
	}
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if o.SubjectPrefix == "" {
		o.SubjectPrefix = DefaultSubjectPrefix
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.ReconnectWait <= 0 {
		o.ReconnectWait = DefaultReconnectWait
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

// Broker is a wsgate.Broker over NATS, with each channel's history in
// JetStream when the servers have it. It is safe for concurrent use.
// The package documentation describes how it numbers, stores and
// delivers publications.
//
// A Broker owns goroutines: one per CPU that delivers publications, one
// that ends subscriptions, one that catches subscriptions up after a
// reconnection (with resyncWorkers helpers while it does), and, while
// they last, one per history read and one per channel that is filling a
// gap. None is started per publication or per waiting request, so none
// accumulates while NATS is down. Close stops and waits for them all.
type Broker struct {
	opts Options
	log  *slog.Logger
	nc   *nats.Conn
	js   jetstream.JetStream // nil: NATS without JetStream, live only

	storePrefix string // PREFIX.ch.: the stream's subjects
	livePrefix  string // PREFIX.live.: where the stream republishes, and live-only channels go
	directGet   string // $JS.API.DIRECT.GET.STREAM

	ctx    context.Context // ends with Close: fetches, reads and the goroutines
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the Broker started
	closed atomic.Bool

	pending   chan struct{} // a slot per publication waiting for NATS
	fetchSlot chan struct{} // bounds concurrent gap fills

	pubs  publishStates
	acks  acks // the stream's acknowledgements of Publish's publications
	subs  subscriptions
	reads coalescer

	resync chan struct{} // signalled on reconnection; capacity 1

	linkMu   sync.Mutex
	link     context.Context // ends when the current connection is lost; guarded by linkMu
	linkDown context.CancelFunc

	stats counters
}

// counters are the Broker's running totals, read by Stats.
type counters struct {
	published  atomic.Uint64
	conflicts  atomic.Uint64
	reads      atomic.Uint64
	coalesced  atomic.Uint64
	gaps       atomic.Uint64
	reconnects atomic.Uint64
	dropped    atomic.Uint64
}

// Stats is a snapshot of a Broker's state and counters.
type Stats struct {
	Connected  bool   // the connection to NATS is up now
	JetStream  bool   // history is kept (false: NATS without JetStream, live only)
	Published  uint64 // publications recorded in the stream or sent live
	Conflicts  uint64 // publishes tried again because the channel's last publication was not the one this node knew (another node published, or the history expired)
	Reads      uint64 // history reads made from JetStream
	Coalesced  uint64 // History calls served by another call's read
	Gaps       uint64 // gaps in a channel's live deliveries filled (or skipped) from the stream
	Reconnects uint64 // reconnections to NATS
	Dropped    uint64 // live messages NATS dropped because this node fell behind, counted once found (then read from the stream)
}

// New connects to NATS as opts say and makes (or updates) the stream
// that keeps the channels' history. It fails when no server can be
// reached. When the servers have no JetStream the Broker carries
// publications live only: it logs so once, publications have Seq 0, and
// resuming clients are told recovered:false.
func New(opts Options) (*Broker, error) {
	opts = opts.withDefaults()
	b := &Broker{
		opts:        opts,
		log:         opts.Logger,
		storePrefix: opts.SubjectPrefix + ".ch.",
		livePrefix:  opts.SubjectPrefix + ".live.",
		directGet:   "$JS.API.DIRECT.GET." + opts.Stream,
		pending:     make(chan struct{}, opts.MaxPending),
		fetchSlot:   make(chan struct{}, 16),
		resync:      make(chan struct{}, 1),
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.newLink()
	nopts := []nats.Option{
		nats.Name(opts.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(opts.ReconnectWait),
		// No buffering while reconnecting: a publication made then fails
		// (ErrUnavailable) instead of waiting in memory for a server.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			b.linkMu.Lock()
			b.linkDown()
			b.linkMu.Unlock()
			b.log.Warn("natsbroker: disconnected from NATS", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.newLink()
			b.stats.reconnects.Add(1)
			b.log.Info("natsbroker: reconnected to NATS", "url", nc.ConnectedUrlRedacted())
			select {
			case b.resync <- struct{}{}:
			default:
			}
		}),
		nats.ErrorHandler(func(_ *nats.Conn, ns *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				b.subs.markLossy(ns) // the gap is filled from the stream
				return
			}
			b.log.Warn("natsbroker: NATS error", "err", err)
		}),
	}
	if opts.CredsFile != "" {
		nopts = append(nopts, nats.UserCredentials(opts.CredsFile))
	}
	if opts.TLSCAFile != "" {
		nopts = append(nopts, nats.RootCAs(opts.TLSCAFile))
	}
	nc, err := nats.Connect(opts.URL, nopts...)
	if err != nil {
		b.cancel()
		return nil, fmt.Errorf("natsbroker: connect to %s: %w", redact(opts.URL), err)
	}
	b.nc = nc
	if err := b.setUpStream(); err != nil {
		b.cancel()
		nc.Close()
		return nil, err
	}
	if b.js != nil {
		if err := b.acks.start(nc, b.opts.RequestTimeout); err != nil {
			b.cancel()
			nc.Close()
			return nil, err
		}
	}
	b.pubs.init()
	b.reads.init(b)
	b.subs.init(b, runtime.GOMAXPROCS(0))
	b.wg.Add(1)
	go b.resyncLoop()
	if b.js != nil {
		b.wg.Go(func() { b.acks.out.run(b.ctx, nc, &b.acks) })
	}
	return b, nil
}

// setUpStream makes the stream, or updates it to opts, or finds that
// the servers have no JetStream and leaves b.js nil.
func (b *Broker) setUpStream() error {
	js, err := jetstream.New(b.nc, jetstream.WithDefaultTimeout(b.opts.RequestTimeout))
	if err != nil {
		return fmt.Errorf("natsbroker: %w", err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, b.opts.RequestTimeout)
	defer cancel()
	_, err = js.CreateOrUpdateStream(ctx, b.streamConfig())
	switch {
	case errors.Is(err, jetstream.ErrJetStreamNotEnabled), errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount),
		errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrNoStreamResponse):
		b.log.Warn("natsbroker: NATS has no JetStream: publications are carried live only, without history; resuming clients get recovered:false", "err", err)
		return nil
	case err != nil:
		return fmt.Errorf("natsbroker: stream %s: %w", b.opts.Stream, err)
	}
	b.js = js
	return nil
}

// streamConfig is the one stream of every channel's history.
func (b *Broker) streamConfig() jetstream.StreamConfig {
	storage := jetstream.FileStorage
	if b.opts.MemoryStorage {
		storage = jetstream.MemoryStorage
	}
	return jetstream.StreamConfig{
		Name:              b.opts.Stream,
		Description:       "wsgate: the history of every channel, HistorySize publications per channel",
		Subjects:          []string{b.storePrefix + ">"},
		MaxMsgsPerSubject: int64(b.opts.HistorySize),
		MaxAge:            b.opts.HistoryAge,
		Duplicates:        min(b.opts.HistoryAge, 2*time.Minute),
		Storage:           storage,
		Replicas:          b.opts.Replicas,
		Discard:           jetstream.DiscardOld,
		AllowDirect:       true,
		RePublish: &jetstream.RePublish{
			Source:      b.storePrefix + ">",
			Destination: b.livePrefix + ">",
		},
	}
}

// ensureStream makes the stream again after NATS lost it (a server
// restarted with memory storage, say). It reports whether it did.
func (b *Broker) ensureStream(ctx context.Context) bool {
	if b.js == nil {
		return false
	}
	_, err := b.js.CreateOrUpdateStream(ctx, b.streamConfig())
	return err == nil
}

// Ready reports whether the Broker can carry publications now: nil when
// connected to NATS, an error wrapping ErrUnavailable while it is not
// (it reconnects meanwhile), ErrClosed after Close. The wsgate server's
// /readyz answers 503 while it is not nil.
func (b *Broker) Ready() error {
	if b.closed.Load() {
		return ErrClosed
	}
	if !b.nc.IsConnected() {
		return fmt.Errorf("%w: connection %s", ErrUnavailable, strings.ToLower(b.nc.Status().String()))
	}
	return nil
}

// Stats returns the Broker's state and counters.
func (b *Broker) Stats() Stats {
	return Stats{
		Connected:  b.nc.IsConnected(),
		JetStream:  b.js != nil,
		Published:  b.stats.published.Load(),
		Conflicts:  b.stats.conflicts.Load(),
		Reads:      b.stats.reads.Load(),
		Coalesced:  b.stats.coalesced.Load(),
		Gaps:       b.stats.gaps.Load(),
		Reconnects: b.stats.reconnects.Load(),
		Dropped:    b.stats.dropped.Load(),
	}
}

// BrokerStats reports Stats to the wsgate server (wsgate.StatsBroker),
// which exports them in /metrics as wsgate_broker_*.
func (b *Broker) BrokerStats() wsgate.BrokerStats {
	s := b.Stats()
	return wsgate.BrokerStats{
		Connected: s.Connected, History: s.JetStream,
		Published: s.Published, Conflicts: s.Conflicts, Reads: s.Reads, Coalesced: s.Coalesced,
		Gaps: s.Gaps, Reconnects: s.Reconnects, Dropped: s.Dropped,
	}
}

// Close ends every subscription, closes the connection to NATS and
// waits for the Broker's goroutines. Publish, Subscribe and History fail
// with ErrClosed afterwards. It is safe to call more than once.
func (b *Broker) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	b.cancel()
	b.nc.Close()
	b.wg.Wait()
	return nil
}

// conn is the Broker's connection to NATS, for other parts of this
// package that talk over it.
func (b *Broker) conn() *nats.Conn { return b.nc }

// usable returns ErrClosed or ErrUnavailable when the Broker cannot take
// a request now.
func (b *Broker) usable() error {
	if b.closed.Load() {
		return ErrClosed
	}
	if !b.nc.IsConnected() {
		return fmt.Errorf("%w: not connected", ErrUnavailable)
	}
	return nil
}

// newLink starts the context of a new connection to NATS, which ends
// when it is lost.
func (b *Broker) newLink() {
	b.linkMu.Lock()
	defer b.linkMu.Unlock()
	if b.linkDown != nil {
		b.linkDown()
	}
	b.link, b.linkDown = context.WithCancel(b.ctx)
}

// currentLink is the context of the current connection to NATS.
func (b *Broker) currentLink() context.Context {
	b.linkMu.Lock()
	defer b.linkMu.Unlock()
	return b.link
}

// errLinkLost ends the requests in flight when the connection to NATS is
// lost: their answers would never come.
var errLinkLost = fmt.Errorf("%w: connection lost", ErrUnavailable)

// bound returns ctx limited to Options.RequestTimeout, to the Broker's
// life and to the current connection's: a request in flight when the
// connection is lost fails then (ctxOr says with errLinkLost), rather
// than at its deadline.
func (b *Broker) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancelCause := context.WithCancelCause(ctx)
	ctx, cancel := context.WithTimeout(ctx, b.opts.RequestTimeout)
	stopClosed := context.AfterFunc(b.ctx, func() { cancelCause(ErrClosed) })
	stopLink := context.AfterFunc(b.currentLink(), func() { cancelCause(errLinkLost) })
	return ctx, func() {
		stopClosed()
		stopLink()
		cancel()
		cancelCause(nil)
	}
}

// liveOnly reports whether channel's publications skip the stream: the
// server's own channels, whose names start with '$' (cache
// invalidations), need no number and no history.
func (b *Broker) liveOnly(channel string) bool {
	return b.js == nil || strings.HasPrefix(channel, "$")
}

// resyncLoop catches every subscription up with the stream after a
// reconnection: publications recorded while this node was away reached
// the stream but not this node.
func (b *Broker) resyncLoop() {
	defer b.wg.Done()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-b.resync:
		}
		b.ensureStream(b.ctx)
		subs := b.subs.all()
		next := make(chan *subscription)
		var workers sync.WaitGroup
		for range min(resyncWorkers, len(subs)) {
			workers.Go(func() {
				for s := range next {
					s.catchUpNow()
				}
			})
		}
		for _, s := range subs {
			select {
			case next <- s:
			case <-b.ctx.Done():
			}
		}
		close(next)
		workers.Wait()
	}
}

// resyncWorkers is how many subscriptions are caught up at once after a
// reconnection.
const resyncWorkers = 8

// redact hides passwords in a list of URLs for logs and errors.
func redact(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if at := strings.LastIndex(p, "@"); at >= 0 {
			if scheme := strings.Index(p, "://"); scheme >= 0 && scheme < at {
				parts[i] = p[:scheme+3] + "***" + p[at:]
			}
		}
	}
	return strings.Join(parts, ",")
}
