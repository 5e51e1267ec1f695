package edge

import (
	"cmp"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Bus carries heartbeats between the nodes of a cluster: the NATS
// connection of a clustered node, say. Implementations are safe for
// concurrent use.
type Bus interface {
	// Announce sends data to every node that watches the bus. It may
	// wait on a network; the Registry calls it from its heartbeat
	// goroutine and from Leave, never from deliver. It must not keep
	// data after it returns.
	Announce(data []byte) error
	// Watch calls deliver with every announcement on the bus, this
	// node's own included or not, until cancel is called. Calls of
	// deliver from one sender keep its order. deliver does not block;
	// data is valid until it returns. cancel may be called more than
	// once.
	Watch(deliver func(data []byte)) (cancel func(), err error)
}

// Status is what a node reports of itself at each heartbeat and in its
// own /edge/nodes and /edge/ping answers.
type Status struct {
	Conns    int     // WebSocket connections held now
	Load     float64 // 0 to 1: see Node.Load
	Draining bool    // see Node.Draining
}

// Defaults of Options.
const (
	DefaultInterval = 2 * time.Second
	DefaultMaxPeers = 1000
	// TTLIntervals is the default TTL in heartbeat intervals: a peer is
	// kept through two lost heartbeats and forgotten on the third.
	TTLIntervals = 3
)

// Options configure a Registry. Only Self.ID is required.
type Options struct {
	// Self is this node: its ID, Region and URL. Its Conns, Load and
	// Draining are ignored: Status reports them.
	Self Node
	// Status reports this node's connections, load and draining state.
	// It is called at each heartbeat and on every Nodes, Self and
	// /edge/ping, so it must be cheap and safe for concurrent use. Nil
	// reports zeros.
	Status func() Status
	// Bus joins the Registry to a cluster. Nil means a single node: the
	// Registry lists itself alone and runs no goroutine.
	Bus Bus
	// Interval is the time between two heartbeats. Zero means
	// DefaultInterval (2s).
	Interval time.Duration
	// TTL is how long peers list this node after its last heartbeat,
	// sent in each heartbeat so that each node's own setting counts.
	// Zero means TTLIntervals heartbeat intervals (6s by default); it is
	// raised to one Interval at least and capped at MaxTTL.
	TTL time.Duration
	// MaxPeers bounds the peers held, so that a bus flooded with made-up
	// nodes cannot grow memory without end; heartbeats of new nodes past
	// it are ignored (and logged) until some expire. Zero means
	// DefaultMaxPeers.
	MaxPeers int
	// Logger receives the heartbeats that could not be sent or were
	// ignored as malformed. Nil discards them.
	Logger *slog.Logger

	now func() time.Time // the clock of expiry; tests set it
}

// Registry is this node's view of the cluster: itself and the peers whose
// heartbeats have not expired. It is safe for concurrent use.
//
// With a Bus it runs one goroutine, owned by the Registry, that sends a
// heartbeat at once, then every Interval, and early when a new peer
// appears, so that the newcomer learns of this node without waiting (new
// peers that come in a burst share one early heartbeat: there is one at
// most every eighth of an Interval or 100 ms, whichever is shorter).
// Leave and Close stop it and wait for it.
type Registry struct {
	self     Node // identity only
	status   func() Status
	bus      Bus
	interval time.Duration
	ttl      time.Duration
	maxPeers int
	log      *slog.Logger
	now      func() time.Time

	mu       sync.Mutex // guards the fields below
	peers    map[string]peer
	full     bool // MaxPeers was reached; logged once until there is room
	conflict bool // another node announced this node's id; logged once

	kick        chan struct{} // a heartbeat is wanted soon; capacity 1
	stop        chan struct{} // closed by Leave
	done        chan struct{} // closed when the heartbeat goroutine ends
	cancelWatch func()        // nil without a Bus
	leaveOnce   sync.Once
	closeOnce   sync.Once
}

// peer is another node and the time its last heartbeat expires.
type peer struct {
	node    Node
	expires time.Time
}

// New returns the Registry of o.Self and, with o.Bus, starts watching the
// bus and heartbeating on it.
func New(o Options) (*Registry, error) {
	self := Node{ID: o.Self.ID, Region: o.Self.Region, URL: o.Self.URL}
	if err := self.check(); err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.TTL <= 0 {
		o.TTL = TTLIntervals * o.Interval
	}
	o.TTL = min(max(o.TTL, o.Interval), MaxTTL)
	if o.MaxPeers <= 0 {
		o.MaxPeers = DefaultMaxPeers
	}
	if o.Status == nil {
		o.Status = func() Status { return Status{} }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.now == nil {
		o.now = time.Now
	}
	r := &Registry{
		self: self, status: o.Status, bus: o.Bus, interval: o.Interval, ttl: o.TTL,
		maxPeers: o.MaxPeers, log: o.Logger, now: o.now,
		peers: make(map[string]peer),
		kick:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	if r.bus == nil {
		close(r.done)
		return r, nil
	}
	cancel, err := r.bus.Watch(r.apply)
	if err != nil {
		return nil, fmt.Errorf("edge: watch the bus: %w", err)
	}
	r.cancelWatch = cancel
	r.kick <- struct{}{} // the first heartbeat goes out at once
	go r.heartbeat()
	return r, nil
}

// heartbeat announces this node every interval, and soon after a kick,
// until Leave.
func (r *Registry) heartbeat() {
	defer close(r.done)
	t := time.NewTicker(r.interval)
	defer t.Stop()
	minGap := min(r.interval/8, 100*time.Millisecond)
	var last time.Time
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.prune()
		case <-r.kick:
			// Kicks that come in a burst (several new peers) make one
			// heartbeat.
			if wait := time.Until(last.Add(minGap)); wait > 0 {
				w := time.NewTimer(wait)
				select {
				case <-r.stop:
					w.Stop()
					return
				case <-w.C:
				}
			}
		}
		r.announce(false)
		last = time.Now()
	}
}

// announce sends this node's heartbeat.
func (r *Registry) announce(leaving bool) {
	data, err := AppendHeartbeat(nil, Heartbeat{Node: r.Self(), Leaving: leaving, TTL: r.ttl})
	if err == nil {
		err = r.bus.Announce(data)
	}
	if err != nil {
		r.log.Warn("node heartbeat not sent", "node", r.self.ID, "leaving", leaving, "err", err)
	}
}

// apply takes a heartbeat from the bus. It is the Bus's deliver: it
// does not block.
func (r *Registry) apply(data []byte) {
	h, err := DecodeHeartbeat(data)
	if err != nil {
		r.log.Warn("heartbeat from the bus ignored", "err", err)
		return
	}
	if h.ID == r.self.ID {
		// This node's own heartbeat, back from the bus; or another
		// node's with the same id, which cannot be listed beside it.
		if h.URL != r.self.URL || h.Region != r.self.Region {
			r.mu.Lock()
			first := !r.conflict
			r.conflict = true
			r.mu.Unlock()
			if first {
				r.log.Warn("another node announces this node's id; give each node its own", "node", h.ID, "url", h.URL, "region", h.Region)
			}
		}
		return
	}
	now := r.now()
	r.mu.Lock()
	if h.Leaving {
		delete(r.peers, h.ID)
		r.mu.Unlock()
		return
	}
	p, ok := r.peers[h.ID]
	known := ok && now.Before(p.expires) // one back after expiring is new again
	if !known {
		r.pruneLocked(now)
		if len(r.peers) >= r.maxPeers {
			first := !r.full
			r.full = true
			r.mu.Unlock()
			if first {
				r.log.Warn("too many nodes on the bus; new ones are ignored until some expire", "max", r.maxPeers, "ignored", h.ID)
			}
			return
		}
		r.full = false
	}
	r.peers[h.ID] = peer{node: h.Node, expires: now.Add(h.TTL)}
	r.mu.Unlock()
	if !known {
		select {
		case r.kick <- struct{}{}:
		default: // a heartbeat is due already
		}
	}
}

// prune forgets the peers whose heartbeats expired.
func (r *Registry) prune() {
	now := r.now()
	r.mu.Lock()
	r.pruneLocked(now)
	r.mu.Unlock()
}

// pruneLocked forgets the peers whose heartbeats expired by now.
// r.mu must be held.
func (r *Registry) pruneLocked(now time.Time) {
	for id, p := range r.peers {
		if !now.Before(p.expires) {
			delete(r.peers, id)
		}
	}
}

// Self returns this node with its Status now.
func (r *Registry) Self() Node {
	n := r.self
	st := r.status()
	n.Conns = max(st.Conns, 0)
	if st.Load > 0 { // NaN and negatives are 0
		n.Load = min(st.Load, 1)
	}
	n.Draining = st.Draining
	return n
}

// Nodes returns the live nodes, this one included, sorted by region,
// then id. A peer is live from its first heartbeat until it leaves or
// its last heartbeat's TTL passes. This node's figures are current; a
// peer's are those of its last heartbeat.
func (r *Registry) Nodes() []Node {
	now := r.now()
	r.mu.Lock()
	r.pruneLocked(now)
	list := make([]Node, 0, len(r.peers)+1)
	for _, p := range r.peers {
		list = append(list, p.node)
	}
	r.mu.Unlock()
	list = append(list, r.Self())
	slices.SortFunc(list, func(a, b Node) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.ID, b.ID))
	})
	return list
}

// Leave stops the heartbeats and tells the peers that this node is
// leaving, so they forget it at once. The Registry still watches the bus:
// a node that drains its connections can still list its peers for its
// clients to move to. Leave may be called more than once.
func (r *Registry) Leave() {
	r.leaveOnce.Do(func() {
		close(r.stop)
		<-r.done
		if r.bus != nil {
			r.announce(true)
		}
	})
}

// Close leaves (see Leave) and stops watching the bus; the peers known
// then stay listed until they expire. Close may be called more than
// once.
func (r *Registry) Close() {
	r.Leave()
	r.closeOnce.Do(func() {
		if r.cancelWatch != nil {
			r.cancelWatch()
		}
	})
}
