package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// subprotocol is the one /ws speaks.
const subprotocol = "wsgate.v1"

// Client is a connection to a wsgate cluster that survives the loss of
// nodes: it connects to the nearest node, and when the connection ends it
// reconnects (to the next nearest node) and restores every subscription
// from where it stood. Its methods are safe for concurrent use.
//
// A Client owns its goroutines: the supervisor, which connects, watches
// the connection, re-probes the nodes and reconnects; the dispatcher,
// which calls handlers and OnState; the reader and writer of each
// connection; and, now and then, a probe round or a connection left for
// a nearer node finishing its requests. Close stops and waits for all of
// them.
type Client struct {
	opts      Options
	transport *http.Transport
	prober    *prober
	codec     wsflate.Codec // inflaters for every connection's compressed messages
	disp      *dispatcher
	nextID    atomic.Uint64
	shut      atomic.Bool // Close was called: no more handler calls

	ctx    context.Context    // ends when Close is called
	cancel context.CancelFunc // ends ctx
	done   chan struct{}      // closed when the supervisor returns
	shutUp chan struct{}      // closed when Close has stopped everything

	// mu guards the fields below. It is never held while waiting, and it
	// is taken before a conn's mu, never after.
	mu     sync.Mutex
	conn   *conn         // the connection in use; nil while there is none
	ready  chan struct{} // closed while conn is set; replaced when it goes
	subs   map[string]*Subscription
	closed bool

	// Owned by the supervisor goroutine.
	plan  []string // nodes in the order to try them
	saved string   // the node last written to Options.StateFile
	rnd   *rand.Rand
}

// Dial connects to the nearest node of the cluster that seeds belong to
// and returns a Client that stays connected until Close.
//
// Seeds are base URLs of nodes, "https://eu.example.com" or
// "http://10.0.0.5:8080" (ws and wss mean http and https). Dial asks them
// for the cluster's nodes (GET /edge/nodes), times the nodes listed and
// the seeds (GET /edge/ping, or /healthz on nodes without it) and
// connects to the nearest one that is not draining, at its URL with ws(s)
// and /ws. When that node fails it tries
// the next nearest, and so on; when all fail it returns an error matching
// ErrNoNode. ctx bounds the whole of Dial, not the Client.
func Dial(ctx context.Context, seeds []string, opts Options) (*Client, error) {
	opts = opts.withDefaults()
	bases, err := seedBases(seeds)
	if err != nil {
		return nil, err
	}
	transport := newTransport(opts)
	c := &Client{
		opts:      opts,
		transport: transport,
		prober:    newProber(bases, opts, transport),
		ready:     make(chan struct{}),
		subs:      make(map[string]*Subscription),
		done:      make(chan struct{}),
		shutUp:    make(chan struct{}),
		rnd:       rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	stopDial := context.AfterFunc(ctx, c.cancel) // ctx ending aborts Dial
	defer stopDial()

	ranked := c.survey(c.ctx)
	c.saved = loadNode(opts.StateFile)
	c.plan = order(ranked, choose(ranked, c.saved, opts.margins()))
	if len(c.plan) == 0 {
		c.plan = bases // every node draining: try them all the same
	}
	var errs []error
	for _, node := range c.plan {
		cn, err := c.dial(node)
		if err == nil {
			if !stopDial() { // ctx ended just now
				cn.stop(ctx.Err(), nil)
				cn.wg.Wait()
				errs = append(errs, ctx.Err())
				break
			}
			c.disp = newDispatcher()
			c.attach(cn)
			go c.run(cn)
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
	}
	c.cancel()
	transport.CloseIdleConnections()
	return nil, fmt.Errorf("%w: %w", ErrNoNode, errors.Join(errs...))
}

// survey runs one round of discovery and probing, within ProbeTimeout,
// and ranks the nodes.
func (c *Client) survey(parent context.Context) []probeResult {
	ctx, cancel := context.WithTimeout(parent, c.opts.ProbeTimeout)
	defer cancel()
	// The probes' connections are not kept: the next survey is minutes
	// away, and a process with many clients would hold a socket per node
	// for each of them meanwhile.
	defer c.transport.CloseIdleConnections()
	return rank(c.prober.survey(ctx), c.opts.margins())
}

// seedBases returns the base URLs of seeds, each once, in order.
func seedBases(seeds []string) ([]string, error) {
	var bases []string
	seen := make(map[string]bool)
	for _, s := range seeds {
		b, err := baseURL(s)
		if err != nil {
			return nil, fmt.Errorf("client: seed %q: %w", s, err)
		}
		if !seen[b] {
			seen[b] = true
			bases = append(bases, b)
		}
	}
	if len(bases) == 0 {
		return nil, fmt.Errorf("%w: no seed given", ErrNoNode)
	}
	return bases, nil
}

// newTransport is the HTTP transport of the edge probes.
func newTransport(opts Options) *http.Transport {
	return &http.Transport{
		DialContext:         opts.NetDial,
		TLSClientConfig:     opts.TLSConfig.Clone(),
		MaxIdleConnsPerHost: 1,
		DisableCompression:  true,
	}
}

// newProber times the nodes of the cluster bases belong to.
func newProber(bases []string, opts Options, transport *http.Transport) *prober {
	return &prober{
		http:   &http.Client{Transport: transport},
		seeds:  bases,
		probes: opts.Probes,
		noPing: make(map[string]bool),
	}
}

// dial opens a connection to node, within DialTimeout.
func (c *Client) dial(node string) (*conn, error) {
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.DialTimeout)
	defer cancel()
	offer := wsflate.ClientOffer
	if c.opts.DisableCompression {
		offer = ""
	}
	protocols := []string{subprotocol}
	if c.opts.Token != nil {
		tok, err := c.token(ctx)
		if err != nil {
			return nil, fmt.Errorf("client: %s: %w", node, err)
		}
		protocols = append(protocols, authProtocolPrefix+tok)
	}
	nc, br, hs, err := ws.Dial(ctx, wsURL(node), ws.DialOptions{
		Header:       c.opts.Header,
		Subprotocols: protocols,
		Extensions:   offer,
		NetDial:      c.opts.NetDial,
		TLSConfig:    c.opts.TLSConfig,
	})
	if err != nil {
		return nil, fmt.Errorf("client: %s: %w", node, err)
	}
	var codec *wsflate.Codec
	if hs.Extensions != "" {
		_, ok, err := wsflate.AcceptResponse([]string{hs.Extensions})
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("client: %s: %w", node, err)
		}
		if ok {
			codec = &c.codec
		}
	}
	return newConn(node, nc, br, codec, c.opts, c.onMessage), nil
}

// Close closes the connection (with a Close frame, 1000) and stops the
// Client: Call, Publish and Subscribe fail with ErrClosed, requests
// waiting for a reply fail, handlers are not called any more, and
// OnState gets a last StateClosed. Close waits until the Client's
// goroutines have ended, so it must not be called from a Handler or
// OnState. Later calls wait for the first to finish and return nil.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.shutUp
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.shut.Store(true)
	c.cancel()
	<-c.done
	c.disp.stop(func() { c.emit(StateEvent{State: StateClosed}) })
	c.transport.CloseIdleConnections()
	close(c.shutUp)
	return nil
}

// emit calls OnState; it runs on the dispatcher.
func (c *Client) emit(e StateEvent) {
	if c.opts.OnState != nil {
		c.opts.OnState(e)
	}
}

// connection returns the connection in use, waiting for one while the
// Client reconnects, until ctx ends.
// Node returns the base URL of the node the Client is connected to, as
// its state events name it (Dial returns connected); "" while it
// reconnects.
func (c *Client) Node() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return ""
	}
	return c.conn.node
}

func (c *Client) connection(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, ErrClosed
		}
		cn, ready := c.conn, c.ready
		c.mu.Unlock()
		if cn != nil {
			return cn, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.ctx.Done():
			return nil, ErrClosed
		}
	}
}

// roundTrip sends r on the connection in use and waits for the reply,
// until ctx ends. A request that could not be sent waits for the next
// connection; one sent on a connection that is lost before the reply
// fails with ErrConnectionLost.
func (c *Client) roundTrip(ctx context.Context, r request) ([]byte, error) {
	for {
		cn, err := c.connection(ctx)
		if err != nil {
			return nil, err
		}
		r.ID = c.nextID.Add(1)
		frame, err := textFrame(r)
		if err != nil {
			return nil, err
		}
		p := &pending{ch: make(chan reply, 1)}
		if cn.request(r.ID, frame, p) != nil {
			continue // lost before it was sent: wait for the next one
		}
		select {
		case rep := <-p.ch:
			if !refusedByDrain(rep.err) {
				return rep.result, rep.err
			}
			// Not run; the node closes this connection next (1012):
			// send it again on the one after.
			select {
			case <-cn.lost:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		case <-ctx.Done():
			cn.forget(r.ID)
			return nil, ctx.Err()
		}
	}
}

// drainRefusal is the message with which a draining node refuses a
// request it did not run (the server's wsgate.DrainRefusal).
const drainRefusal = "node draining: send it to another node"

// refusedByDrain reports whether err is a draining node's refusal.
func refusedByDrain(err error) bool {
	e, ok := err.(*Error)
	return ok && e.Code == "unavailable" && e.Message == drainRefusal
}

// onMessage handles a text message from the server, on the reader
// goroutine of cn.
func (c *Client) onMessage(cn *conn, payload []byte) {
	var m inbound
	if err := json.Unmarshal(payload, &m); err != nil {
		return // not ours to judge; the server speaks JSON
	}
	if string(m.Auth) == `"refresh"` {
		c.refresh(cn)
		return
	}
	if m.Ch != "" {
		c.deliver(m.Ch, m.Seq, m.Epoch, m.Data)
		return
	}
	id, err := strconv.ParseUint(string(m.ID), 10, 64)
	if err != nil {
		return
	}
	p := cn.take(id)
	if p == nil {
		return // its caller gave up
	}
	rep := reply{result: m.Result}
	if m.Error != nil {
		rep = reply{err: m.Error}
	}
	if p.onReply != nil {
		p.onReply(rep)
		return
	}
	p.ch <- rep
}
