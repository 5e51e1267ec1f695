package wsgate

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/wsgate/wsgate/internal/edge"
	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/internal/fdlimit"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// EngineKind selects how the server runs WebSocket connections after the
// opening handshake.
type EngineKind uint8

const (
	// EngineAuto is EngineEpoll on Linux and EngineGoroutine elsewhere.
	EngineAuto EngineKind = iota
	// EngineGoroutine runs each connection on two goroutines of its own
	// (about 10 KB or more per connection). It works on every system.
	EngineGoroutine
	// EngineEpoll hands connections to GOMAXPROCS epoll event loops: an
	// idle connection holds no goroutine and no buffer (a few hundred
	// bytes). Linux only. TLS connections still use the goroutine engine.
	EngineEpoll
	// EngineUring is EngineEpoll's event loops driven by io_uring: a
	// connection's reads arrive as completions of one multishot receive
	// into the loop's buffers, and what a loop writes in a turn (replies,
	// a publication's fan-out) leaves in one system call. Linux only;
	// where the kernel refuses io_uring the server uses EngineEpoll and
	// logs one line saying so.
	EngineUring
)

// String returns "auto", "goroutine", "epoll", "uring" or "EngineKind(N)".
func (k EngineKind) String() string {
	switch k {
	case EngineAuto:
		return "auto"
	case EngineGoroutine:
		return "goroutine"
	case EngineEpoll:
		return "epoll"
	case EngineUring:
		return "uring"
	}
	return "EngineKind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText returns String's text, so an EngineKind works with
// flag.TextVar and encoders.
func (k EngineKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText accepts "auto", "goroutine", "epoll" or "uring".
func (k *EngineKind) UnmarshalText(b []byte) error {
	for _, c := range []EngineKind{EngineAuto, EngineGoroutine, EngineEpoll, EngineUring} {
		if string(b) == c.String() {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("wsgate: engine %q: want auto, goroutine, epoll or uring", b)
}

// Supported reports whether k can run on this system: EngineEpoll only
// on Linux, EngineUring only where the kernel also allows io_uring (a
// Server asked for it elsewhere on Linux runs EngineEpoll).
func (k EngineKind) Supported() bool {
	ek, ok := k.internal()
	return ok && ek.Supported()
}

func (k EngineKind) internal() (engine.Kind, bool) {
	switch k {
	case EngineAuto:
		return engine.Auto, true
	case EngineGoroutine:
		return engine.Goroutine, true
	case EngineEpoll:
		return engine.Epoll, true
	case EngineUring:
		return engine.Uring, true
	}
	return 0, false
}

// Config configures a Server. The zero value is ready to use; each field
// says what its zero value means. New never modifies the caller's Config.
type Config struct {
	// MaxMessageSize limits one incoming WebSocket message, in bytes. A
	// larger message closes the connection with 1009 (RFC 6455). A
	// compressed message is held to it twice: on the wire, and while it
	// is inflated, which stops as soon as the output would pass it. Zero
	// means 1 MiB; negative means no limit.
	MaxMessageSize int64
	// MaxPublishSize limits the "data" of a client's pub, in bytes. A
	// larger one is answered with too_large; the connection stays. Zero
	// means 64 KiB.
	MaxPublishSize int
	// MaxQueuedBytes limits the bytes waiting to be sent to one
	// connection. While more wait, the server does not read the
	// connection (TCP pushes back on a client that sends requests without
	// reading the replies). A connection whose queue stays over the limit
	// for half of WriteTimeout, or would reach twice the limit, is a slow
	// consumer: closed with 1008, and its client can resume from its last
	// seq. Zero means 1 MiB.
	MaxQueuedBytes int
	// MaxBufferedInput bounds, for the whole server, the bytes held of
	// what clients sent and the server has not finished with: messages
	// that arrived in part (fragmented, or split across reads), the
	// arguments of running calls and the data of queued pubs. When it is
	// spent, a connection in the middle of a message is not read until
	// bytes are freed (TCP pushes back on its client; one connection at
	// a time may still finish its message), and a call or pub is answered
	// unavailable, "server busy: input budget spent; retry", without being
	// run. Connections between messages are still read, so pings, pongs,
	// Close frames, small messages and cache hits go on. Zero means
	// 256 MiB (engine.DefaultMaxBufferedInput); negative means no bound.
	MaxBufferedInput int64
	// MaxCallsPerConn limits the calls one connection may have running;
	// a call beyond it is answered with rate_limited at once. Zero means 64.
	MaxCallsPerConn int
	// MaxConns caps the WebSocket connections the server holds, on /ws
	// and /echo together; a handshake past it is answered 503 with
	// Retry-After, before any WebSocket state is made. Zero means the
	// process's open-file limit less a headroom of an eighth of it (64 to
	// 512 descriptors), so that plain HTTP requests (/healthz, /metrics)
	// and backend calls still get descriptors when the cap is hit: 19,488
	// with a limit of 20,000. Where the limit cannot be read, and when
	// negative, there is no cap.
	MaxConns int
	// MaxConnsPerIP caps the WebSocket connections from one client IP
	// address (the TCP peer's: behind a proxy or CDN, every client has
	// the proxy's address, so leave it off there); past it a handshake is
	// answered 503. Zero or negative means no cap.
	MaxConnsPerIP int
	// HandshakeTimeout bounds the sending of a WebSocket handshake's
	// answer: a client that does not take it in time is dropped. Zero
	// means 10s. The time to send the request is the http.Server's
	// ReadHeaderTimeout, which should be set too.
	HandshakeTimeout time.Duration
	// MaxMessagesPerSecond limits the messages one /ws connection may
	// send: a token bucket refilled at this rate that holds up to one
	// second's worth. A message over the rate is answered rate_limited
	// (with its id) and not acted on; other connections are not slowed.
	// Zero means 10,000; negative means no limit.
	MaxMessagesPerSecond int
	// MaxSubscriptionsPerConn caps the channels one connection may be
	// subscribed to; a sub beyond it is answered with too_large. Zero
	// means 1,000; negative means no cap.
	MaxSubscriptionsPerConn int
	// CallTimeout bounds one call; the client gets a timeout error after
	// it. Zero means 10s. The requests of a connection that start within a
	// hundredth of it (100 ms at most) share one deadline, so a request may
	// get up to that much longer.
	CallTimeout time.Duration
	// PingInterval is how long a connection may be silent before the
	// server pings it. Zero means 25s.
	PingInterval time.Duration
	// IdleTimeout closes (1001) a connection silent for this long, even
	// to pings. Zero means 60s. When it is lower than twice PingInterval
	// the engine raises it to twice PingInterval, so a live client always
	// has a ping to answer in time.
	IdleTimeout time.Duration
	// CloseTimeout bounds the closing handshake. Zero means 5s.
	CloseTimeout time.Duration
	// WriteTimeout drops a client that accepts no byte for this long
	// while data waits for it. Zero means 10s.
	WriteTimeout time.Duration
	// Engine selects how connections run after the handshake. The zero
	// value, EngineAuto, is epoll on Linux; New fails on a kind the
	// system does not support. TLS connections always use goroutines.
	Engine EngineKind
	// AllowedOrigins lists the Origin header values ("https://app.example.com")
	// allowed to open a WebSocket, compared without regard to case; "*"
	// allows all. Empty allows all. Requests without an Origin header
	// (non-browser clients) are always allowed.
	AllowedOrigins []string
	// APIKey turns on POST /api/publish and /api/cache/invalidate for requests that carry
	// "Authorization: Bearer <APIKey>". Empty leaves /api/* off.
	APIKey string
	// Files serves every path the Server does not own (static files, a
	// page). Nil answers those paths with 404.
	Files http.Handler
	// DisableEcho turns off the /echo endpoint.
	DisableEcho bool
	// Backend is the URL of an HTTP backend for calls: a call of a method
	// without a Handle'd function is POSTed to Backend + "/" + method with
	// the args as its body, and the reply's Cache-Control decides how long
	// its result is cached. Empty: such calls get not_found. Method
	// names that start with '_' are reserved for wsgate (the backend's
	// _connect hook, say): clients' calls to them get not_found.
	Backend string
	// BackendMaxConcurrent caps the calls in flight to Backend; more wait
	// up to 1s, then get unavailable. Zero means 256.
	BackendMaxConcurrent int
	// CacheSize bounds the response cache, in bytes. Zero means 64 MiB;
	// negative turns the cache off.
	CacheSize int64
	// Broker carries publications between nodes. Nil means an in-memory
	// broker owned by the Server (a single node). A Broker that is also a
	// NodeBus carries the nodes' heartbeats too (see Server.Nodes).
	Broker Broker
	// NodeID names this node in GET /edge/nodes, /edge/ping and its
	// heartbeats: 1 to 64 ASCII letters, digits, '.', '-' or '_', one per
	// node of a cluster. Empty means the first label of the host name and
	// 6 random hex digits, "web1-3f9a2c", new at each start (so two
	// processes on one host differ).
	NodeID string
	// Region is where this node runs, "eu-west", as /edge/nodes lists it:
	// up to 64 of NodeID's characters. Empty: none.
	Region string
	// PublicURL is where clients reach this node, as /edge/nodes lists it:
	// http:// or https://, a host and at most a path
	// ("https://eu1.example.com"). Empty: unknown, listed as "", and a
	// client uses the address it reached the node at. The wsgate command
	// derives one from its listen address.
	PublicURL string
	// CanPublish decides whether a client may pub on a channel; a non-nil
	// error is sent as the reply (an *Error keeps its code, anything else
	// becomes forbidden). Nil lets clients publish on every channel.
	// Server.Publish is not subject to it. CanPublish runs on the
	// connection's broker path, a goroutine of its own, never on an event
	// loop; it may block (a database lookup, say) for up to CallTimeout,
	// and it is called in order with the connection's other sub, unsub and
	// pub requests.
	CanPublish func(ctx context.Context, channel string) error
	// Permissions say what a /ws connection may do (which channels it
	// may subscribe to and publish on, which methods it may call) when
	// its Identity brings none, or when there is no Authenticate. Nil
	// allows everything. New refuses a pattern it cannot read.
	Permissions *Permissions
	// Authenticate, when set, makes /ws authenticate its clients: it
	// checks a token and says who presented it. A client presents its
	// token in the handshake, as a subprotocol offered beside wsgate.v1
	// (Sec-WebSocket-Protocol: wsgate.v1, wsgate.auth.TOKEN; the server
	// selects wsgate.v1 only, never echoing the token) or, with
	// AuthQueryToken, in the URL; or else as its first message,
	// {"auth":"TOKEN"}, within AuthTimeout. Until a token is accepted the
	// connection may do nothing else. A token refused at the handshake
	// is answered 401; after it, the connection is closed with
	// CloseTokenInvalid. Before Identity.Expires the server asks for a
	// fresh token, {"auth":"refresh","exp":N}; the client sends one
	// ({"auth":"TOKEN"}, same user) or is closed at Expires with
	// CloseTokenExpired. The identity reaches CallFuncs and CanPublish
	// (IdentityFromContext) and the HTTP backend (X-Wsgate-User).
	//
	// Authenticate runs on a goroutine of its own, never on an event
	// loop: it may wait on a network, bounded by AuthTimeout (ctx). An
	// error wrapping ErrAuthUnavailable tells the client to try again
	// later; one wrapping ErrAuthForbidden is answered 403 at the
	// handshake; any other refuses the token (after the handshake its
	// message is the Close frame's reason). Nil: no authentication (and
	// an auth message is answered bad_request), unless
	// AuthenticateHandshake is set. /echo is never authenticated: turn
	// it off with DisableEcho.
	Authenticate func(ctx context.Context, token string) (Identity, error)
	// AuthenticateHandshake, when set, makes /ws authenticate each
	// handshake from what the whole request carries (a session cookie,
	// an Authorization header, the token HandshakeToken finds), before
	// the upgrade and Authenticate. The Identity it returns is the
	// connection's, as a token accepted at the handshake. An error
	// wrapping ErrNoCredentials means the handshake has nothing to
	// check: its token, if any, goes to Authenticate, or else the
	// connection waits for an {"auth":"TOKEN"} message checked by
	// Authenticate (without Authenticate such a handshake is answered
	// 401). An error wrapping ErrAuthUnavailable is answered 503, one
	// wrapping ErrAuthForbidden 403, any other 401 with
	// WWW-Authenticate. Fresh tokens, and refusals after the handshake,
	// go through Authenticate as described there; without it, an
	// Identity with Expires closes the connection then (4008), and the
	// client reconnects.
	//
	// It runs on the handshake's goroutine, bounded by AuthTimeout
	// (ctx); r must not be kept after it returns, nor its body read.
	AuthenticateHandshake func(ctx context.Context, r *http.Request) (Identity, error)
	// AuthTimeout is how long a client has, after the handshake, to have
	// its first token accepted, and bounds each call of Authenticate and
	// of AuthenticateHandshake. Zero means 10s.
	AuthTimeout time.Duration
	// AuthQueryToken takes a handshake's token from its URL's "token"
	// query parameter too (/ws?token=TOKEN), for clients that can set
	// neither a header nor wait to send a message. Off by default: URLs
	// end up in access logs, proxies' and CDNs' included.
	AuthQueryToken bool
	// Logger receives the server's logs. Nil means slog.Default(). Lines
	// a client or backend can cause in numbers (an unusable backend
	// reply, say) are rate-limited per message: 10 at once, then one a
	// second, each passed line counting the ones dropped before it.
	Logger *slog.Logger
	// Compression configures permessage-deflate (RFC 7692) on /ws and
	// /echo. The zero value turns it on with level 1, a 256-byte
	// threshold and no context takeover.
	Compression CompressionConfig
}

// CompressionConfig configures permessage-deflate (RFC 7692). The zero
// value compresses, at level 1, every message of at least 256 bytes that
// shrinks, for clients that offer the extension, keeping no compressor
// state between messages: a publication is then compressed once for all
// of its subscribers, and a cached result once for all of its hits.
type CompressionConfig struct {
	// Disabled declines every client's offer: nothing is compressed.
	Disabled bool
	// Level is the DEFLATE level, 1 (fastest, the default when zero) to
	// 9 (smallest), or -2 for Huffman-only coding.
	Level int
	// Threshold is the size in bytes below which a message goes out
	// uncompressed. Zero means 256; 1 compresses every non-empty message.
	Threshold int
	// ContextTakeover lets a connection keep its compressor between
	// messages when the client allows it (RFC 7692 server context
	// takeover), so a message may refer back to the ones before it: a
	// stream of similar messages shrinks much more. Each such connection
	// holds a compressor from its first compressed message until it
	// closes: 0.83 MB at level 1, 1.09 MB at 6, 1.43 MB at 9. It
	// compresses every message itself (a publication compressed once
	// serves only the connections without a context), one writer at a
	// time. Clients are still asked not to keep theirs.
	ContextTakeover bool
	// MaxContexts caps the connections holding a compressor context when
	// ContextTakeover is set; past it a handshake gets the stateless
	// answer (server_no_context_takeover). Zero means 64.
	MaxContexts int
}

// codecOptions maps c onto the Codec's options.
func (c CompressionConfig) codecOptions() (wsflate.Options, error) {
	if c.MaxContexts < 0 {
		return wsflate.Options{}, fmt.Errorf("wsgate: compression max contexts %d: want 0 (default 64) or more", c.MaxContexts)
	}
	if c.Level < math.MinInt8 || c.Level > math.MaxInt8 {
		return wsflate.Options{}, fmt.Errorf("wsgate: compression level %d: want 1 to 9 or -2", c.Level)
	}
	o := wsflate.Options{Level: wsflate.Level(c.Level), Threshold: c.Threshold, MaxContexts: c.MaxContexts}
	switch {
	case c.Disabled:
		o.Mode = wsflate.ModeDisabled
	case c.ContextTakeover:
		o.Mode = wsflate.ModeContextTakeover
	}
	return o, nil
}

// defaultMaxConns is MaxConns's default for an open-file limit of
// limit descriptors (0: unknown, no cap).
func defaultMaxConns(limit uint64) int {
	if limit == 0 || limit > 1<<30 {
		return -1
	}
	headroom := min(max(limit/8, 64), 512)
	if limit <= headroom {
		return -1
	}
	return int(limit - headroom)
}

// Defaults of Config's per-connection limits.
const (
	DefaultHandshakeTimeout        = 10 * time.Second
	DefaultMaxMessagesPerSecond    = 10_000
	DefaultMaxSubscriptionsPerConn = 1000
	DefaultAuthTimeout             = 10 * time.Second
)

// withDefaults fills in the defaults this package owns. The layers that
// own the others apply them: MaxMessageSize and MaxQueuedBytes
// (engine.DefaultMaxMessageSize, engine.DefaultMaxQueuedBytes), the
// timeouts of connections (engine.Options), and CacheSize
// (cache.DefaultMaxBytes).
func (c Config) withDefaults() Config {
	if c.MaxPublishSize <= 0 {
		c.MaxPublishSize = 64 << 10
	}
	if c.MaxCallsPerConn <= 0 {
		c.MaxCallsPerConn = 64
	}
	if c.MaxConns == 0 {
		c.MaxConns = defaultMaxConns(fdlimit.Open())
	}
	c.MaxConns = max(c.MaxConns, 0)
	c.MaxConnsPerIP = max(c.MaxConnsPerIP, 0)
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.MaxMessagesPerSecond == 0 {
		c.MaxMessagesPerSecond = DefaultMaxMessagesPerSecond
	}
	if c.MaxSubscriptionsPerConn == 0 {
		c.MaxSubscriptionsPerConn = DefaultMaxSubscriptionsPerConn
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 10 * time.Second
	}
	if c.AuthTimeout <= 0 {
		c.AuthTimeout = DefaultAuthTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.NodeID == "" {
		host, _ := os.Hostname()
		c.NodeID = edge.DeriveID(host)
	}
	return c
}
