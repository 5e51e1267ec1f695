package wsgate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgate/wsgate/internal/backend"
	"github.com/wsgate/wsgate/internal/cache"
	"github.com/wsgate/wsgate/internal/edge"
	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/internal/envelope"
	"github.com/wsgate/wsgate/internal/hub"
	"github.com/wsgate/wsgate/internal/lograte"
	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// Subprotocol is the WebSocket subprotocol of /ws. Clients may offer it;
// the server selects it when offered and does not require it.
const Subprotocol = "wsgate.v1"

// Server is a WebSocket server: /ws with the JSON envelope (calls,
// subscriptions, publications), /echo, and health endpoints. All methods
// are safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger     // Config.Logger, each message at a bounded rate (logs)
	logs    *lograte.Handler // counts the lines dropped
	broker  Broker
	owns    bool // the broker was made by New and is closed by Shutdown
	hub     *hub.Hub
	engine  *engine.Engine
	metrics metrics        // read by Stats
	codec   *wsflate.Codec // nil when Compression.Disabled
	wsUp    ws.Upgrader    // for /ws
	echoUp  ws.Upgrader    // for /echo
	// echoCounted is the handler of every /echo connection when there is
	// no per-IP cap: echoing and counting keep nothing per connection.
	echoCounted engine.Handler
	grants      *grants // Config.Permissions; nil allows everything

	// baseCtx is the parent of every call's context; cancelled by Close
	// or by Shutdown when its deadline passes.
	baseCtx    context.Context
	cancelBase context.CancelFunc
	calls      sync.WaitGroup // running calls
	callGate   sync.RWMutex   // read-held by startCall, write-held while Shutdown sets stopping
	stopping   atomic.Bool    // Shutdown or Close began: no new connections or calls
	draining   atomic.Bool    // Drain began: clients are told to move to another node

	routesMu sync.RWMutex
	routes   map[string]route // Handle'd methods
	backend  *backend.Client  // nil without Config.Backend
	cache    *cache.Cache     // nil when Config.CacheSize < 0
	nodeID   string           // random; marks this node's cache invalidations on the broker
	stopInv  func()           // ends the broker subscription to invalidations

	apiKeyHash [sha256.Size]byte // SHA-256 of Config.APIKey, for constant-time checks

	gate    *connGate     // Config.MaxConns and MaxConnsPerIP
	limited limitCounters // what each limit refused

	nodes *edge.Registry // this node and its live peers (edge.go)

	started time.Time // New's moment: the clock of the sessions' message rates
}

// New returns a Server configured by cfg.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := checkNode(cfg); err != nil {
		return nil, err
	}
	codec, err := newCodec(cfg.Compression)
	if err != nil {
		return nil, err
	}
	logs := lograte.New(cfg.Logger.Handler(), lograte.Options{})
	s := &Server{
		cfg:     cfg,
		started: time.Now(),
		log:     slog.New(logs),
		logs:    logs,
		broker:  cfg.Broker,
		codec:   codec,
		routes:  make(map[string]route),
	}
	s.apiKeyHash = sha256.Sum256([]byte(cfg.APIKey))
	s.gate = newConnGate(cfg.MaxConns, cfg.MaxConnsPerIP)
	s.echoCounted = s.metrics.wrap(endpointEcho, echoHandler{}, s.gate, netip.Addr{})
	if s.broker == nil {
		s.broker = NewMemoryBroker(MemoryBrokerOptions{})
		s.owns = true
	}
	s.hub = hub.New(hub.Options{Codec: codec, Source: brokerSource{s.broker}, MaxPerSubscriber: cfg.MaxSubscriptionsPerConn})
	checkOrigin, err := originChecker(cfg.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	if s.grants, err = cfg.Permissions.compile(); err != nil {
		return nil, fmt.Errorf("%w (Config.Permissions)", err)
	}
	s.wsUp = ws.Upgrader{Subprotocols: []string{Subprotocol}, CheckOrigin: checkOrigin}
	s.echoUp = ws.Upgrader{CheckOrigin: checkOrigin}
	kind, ok := cfg.Engine.internal()
	if kind == engine.Uring && !kind.Supported() && engine.Epoll.Supported() {
		ok = true // engine.New falls back to epoll and logs it
	} else if !kind.Supported() {
		ok = false
	}
	if !ok {
		return nil, fmt.Errorf("wsgate: engine %v is not supported on this system", cfg.Engine)
	}
	s.engine = engine.New(engine.Options{
		Kind:             kind,
		MaxMessageSize:   cfg.MaxMessageSize,
		MaxQueuedBytes:   cfg.MaxQueuedBytes,
		MaxBufferedInput: cfg.MaxBufferedInput,
		PingInterval:     cfg.PingInterval,
		IdleTimeout:      cfg.IdleTimeout,
		CloseTimeout:     cfg.CloseTimeout,
		WriteTimeout:     cfg.WriteTimeout,
		Codec:            codec,
		Logger:           cfg.Logger,
	})
	s.baseCtx, s.cancelBase = context.WithCancel(context.Background())
	if err := s.startCalls(); err != nil {
		return nil, err
	}
	if err := s.startNodes(); err != nil {
		s.stopCalls()
		return nil, err
	}
	return s, nil
}

// newCodec returns the permessage-deflate Codec for cfg, or nil when
// compression is disabled.
func newCodec(cfg CompressionConfig) (*wsflate.Codec, error) {
	if cfg.Disabled {
		return nil, nil
	}
	opts, err := cfg.codecOptions()
	if err != nil {
		return nil, err
	}
	codec, err := wsflate.New(opts)
	if err != nil {
		return nil, fmt.Errorf("wsgate: compression: %w", err)
	}
	return codec, nil
}

// originChecker returns the Origin policy for the handshake, or nil for
// "every origin".
func originChecker(allowed []string) (func(*http.Request) bool, error) {
	if len(allowed) == 0 {
		return nil, nil
	}
	set := make(map[string]bool, len(allowed))
	for _, o := range allowed {
		o = strings.TrimSpace(o)
		if o == "*" {
			return nil, nil
		}
		if o == "" || !strings.Contains(o, "://") {
			return nil, fmt.Errorf("wsgate: allowed origin %q: want scheme://host[:port] or *", o)
		}
		set[strings.ToLower(strings.TrimSuffix(o, "/"))] = true
	}
	return func(r *http.Request) bool {
		origin := r.Header.Get("Origin")
		return origin == "" || set[strings.ToLower(origin)]
	}, nil
}

// Publish sends data to every subscriber of channel, on every node of the
// cluster. data is marshalled to JSON; a json.RawMessage or []byte must
// already be valid JSON and is copied, so the caller may reuse it. It
// returns the publication with its Seq once the Broker has numbered it,
// so it may wait on the Broker (a network round trip with a cluster's);
// ctx bounds that wait.
func (s *Server) Publish(ctx context.Context, channel string, data any) (Publication, error) {
	if !envelope.ValidName(channel) {
		return Publication{}, Errorf(CodeBadRequest, "invalid channel name %q", channel)
	}
	raw, err := marshalJSON(data)
	if err != nil {
		return Publication{}, fmt.Errorf("wsgate: publish to %q: %w", channel, err)
	}
	return s.publish(ctx, channel, raw)
}

// publish hands raw, valid JSON the caller no longer touches, to the
// Broker.
func (s *Server) publish(ctx context.Context, channel string, raw json.RawMessage) (Publication, error) {
	if s.stopping.Load() {
		return Publication{}, ErrServerClosed
	}
	return s.broker.Publish(ctx, channel, raw)
}

// marshalJSON encodes v. Valid raw JSON (json.RawMessage or []byte) is
// copied unchanged, so the caller may reuse its buffer; nil is null.
func marshalJSON(v any) (json.RawMessage, error) {
	raw, err := envelope.Marshal(v)
	if err != nil {
		return nil, err
	}
	switch v.(type) {
	case json.RawMessage, []byte:
		return bytes.Clone(raw), nil
	}
	return raw, nil
}

// brokerSource lets the hub subscribe this node to the Broker's channels.
type brokerSource struct{ b Broker }

func (bs brokerSource) Subscribe(channel string, deliver func(hub.Publication)) (func(), error) {
	return bs.b.Subscribe(channel, func(p Publication) {
		deliver(hub.Publication{Seq: p.Seq, Epoch: p.Epoch, Data: p.Data})
	})
}

// Shutdown stops the server gracefully: new connections and new calls are
// refused, running calls may finish and send their replies, then every
// connection gets a Close frame with 1001 (going away) and Shutdown waits
// for them to end. When ctx ends first, the rest is cut short and ctx's
// error returned. Shutdown does not stop an http.Server the Server is
// mounted on; shut that down too.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.shutdown(ctx, ws.StatusGoingAway, "server shutting down")
}

// shutdown is Shutdown, closing connections with code and reason.
func (s *Server) shutdown(ctx context.Context, code ws.StatusCode, reason string) error {
	s.stop()
	callsDone := make(chan struct{})
	go func() {
		s.calls.Wait()
		close(callsDone)
	}()
	var err error
	select {
	case <-callsDone:
	case <-ctx.Done():
		err = ctx.Err()
		s.cancelBase()
		<-callsDone
	}
	if e := s.engine.Shutdown(ctx, code, reason); err == nil {
		err = e
	}
	s.cancelBase()
	s.stopCalls()
	s.closeBroker()
	return err
}

// Close stops the server at once: calls are cancelled and connections
// dropped without a closing handshake.
func (s *Server) Close() error {
	s.stop()
	s.cancelBase()
	s.engine.Close()
	s.calls.Wait()
	s.stopCalls()
	s.closeBroker()
	return nil
}

// stop refuses new connections and calls from now on, and tells the
// other nodes that this one is leaving.
func (s *Server) stop() {
	s.callGate.Lock()
	s.stopping.Store(true)
	s.callGate.Unlock()
	s.nodes.Leave()
}

// closeBroker ends this node's subscriptions to the Broker and closes
// the Broker when New made it.
func (s *Server) closeBroker() {
	s.nodes.Close()
	s.hub.Close()
	if s.owns {
		s.broker.Close()
	}
}

// Conns reports how many WebSocket connections the server holds.
func (s *Server) Conns() int { return s.engine.Len() }
