package client

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// Options configure a Client. The zero value is ready to use; each field
// documents its default. Dial works on a copy: the caller's Options are
// never modified.
type Options struct {
	// Header holds extra headers for the WebSocket handshake, such as
	// Authorization.
	Header http.Header
	// TLSConfig is used for https:// and wss:// nodes; nil uses the
	// defaults.
	TLSConfig *tls.Config
	// Token returns the token (a JWT) that proves who the client is to a
	// node with authentication on. It is called before every connection
	// attempt, whose handshake offers the token as the subprotocol
	// "wsgate.auth.<token>" beside "wsgate.v1", and again when the node
	// asks for a fresh one before the token in use expires. An error
	// fails the attempt, which is retried after a backoff. A node that
	// refuses the token answers the handshake with 401; one that closes
	// the connection with 4001, 4003, 4008 or 4009 (see the wsgate
	// package's CloseAuthRequired and others) shows in the
	// StateDisconnected event's Err, and the next attempt gets a new
	// token. ctx ends at DialTimeout or when the connection or the
	// Client ends. It may be called from several goroutines at once.
	// Nil means the client presents no token.
	Token func(ctx context.Context) (string, error)

	// Probes is how many times each node's /edge/ping is timed when
	// choosing a node; the median counts. Zero means 3.
	Probes int
	// ProbeTimeout bounds one round of discovery and probing (fetching
	// /edge/nodes and timing every node). Zero means 2s.
	ProbeTimeout time.Duration
	// ReprobeInterval is how often the nodes are probed again while
	// connected, to move to a node that became clearly nearer; each wait
	// is spread by up to 10 % either way, so that clients started
	// together do not probe together. Zero means 5 minutes; negative
	// means never.
	ReprobeInterval time.Duration
	// SwitchMargin and SwitchRatio say when another node is clearly
	// nearer than the one in use: its median round trip must be shorter
	// by at least SwitchMargin and by at least SwitchRatio of the current
	// one's. Nodes within these margins of the nearest count as equals,
	// and the one with fewer connections is preferred. Zero means 20ms
	// and 0.3 (30 %).
	SwitchMargin time.Duration
	SwitchRatio  float64

	// BackoffMin and BackoffMax bound the wait before each round of
	// reconnection attempts (the nodes of the plan in turn, each tried at
	// once after the one before failed): BackoffMin doubles with every
	// round in which all failed up to BackoffMax, and each wait is half
	// of that plus a random part of the other half. A connection that stayed up 2s (or BackoffMax, when
	// shorter) starts the count over from BackoffMin; one that ends
	// sooner, as on a node that drops its clients at once, keeps it
	// growing. A node restarting (close code 1012) is left at once,
	// without a wait. Zero means DefaultBackoffMin and DefaultBackoffMax.
	BackoffMin time.Duration
	BackoffMax time.Duration
	// NetDial opens every TCP connection the client makes: its WebSocket
	// connections and the HTTP requests that discover and time the nodes
	// (/edge/nodes, /edge/ping). network is "tcp" and addr is host:port;
	// TLS, for https and wss nodes, is added on top of the returned
	// connection. It may be called from several goroutines at once. A
	// program can use it to choose a local address or a proxy, or a test
	// to cut connections. Nil means a zero net.Dialer's DialContext.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// DialTimeout bounds one connection attempt (TCP, TLS and the
	// WebSocket handshake). Zero means 10s.
	DialTimeout time.Duration
	// PingInterval is how long the connection may be silent before the
	// client sends a Ping; a connection silent for twice as long, or
	// whose writes make no progress for twice as long, is taken for dead
	// and replaced. Zero means 20s.
	PingInterval time.Duration
	// MaxMessageSize is the largest message accepted from a server, in
	// bytes after decompression; a larger one ends the connection (1009).
	// Zero means 16 MiB.
	MaxMessageSize int64
	// DisableCompression stops the client from offering
	// permessage-deflate (RFC 7692). By default it is offered without
	// context takeover: the server compresses the messages it finds worth
	// it, each on its own, and the client inflates them with a
	// decompressor borrowed for the message. The client's own messages
	// are sent uncompressed.
	DisableCompression bool

	// StateFile, when set, is a file where the client remembers the last
	// node it connected to, so that a restarted program goes back to it
	// unless another is clearly nearer. Errors reading or writing it are
	// ignored: it is only a hint.
	StateFile string
	// OnState is called with every change of the connection's state, in
	// order, on the goroutine that runs handlers (see Handler). Nil means
	// no calls.
	OnState func(StateEvent)
}

// The reconnection backoff's defaults. A wait grows from half of
// DefaultBackoffMin to at most DefaultBackoffMax: after one outage a
// client tries again within 5 s of the network's return, and thousands
// of clients of a node that stays down come back spread over 2.5 to 5 s.
const (
	DefaultBackoffMin = 250 * time.Millisecond
	DefaultBackoffMax = 5 * time.Second
)

func (o Options) withDefaults() Options {
	if o.Probes <= 0 {
		o.Probes = 3
	}
	if o.ProbeTimeout <= 0 {
		o.ProbeTimeout = 2 * time.Second
	}
	if o.ReprobeInterval == 0 {
		o.ReprobeInterval = 5 * time.Minute
	}
	if o.SwitchMargin <= 0 {
		o.SwitchMargin = 20 * time.Millisecond
	}
	if o.SwitchRatio <= 0 || o.SwitchRatio >= 1 {
		o.SwitchRatio = 0.3
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = DefaultBackoffMin
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	o.BackoffMax = max(o.BackoffMax, o.BackoffMin)
	if o.NetDial == nil {
		o.NetDial = (&net.Dialer{}).DialContext
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 20 * time.Second
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = 16 << 20
	}
	return o
}

func (o Options) margins() margins {
	return margins{Abs: o.SwitchMargin, Ratio: o.SwitchRatio}
}
