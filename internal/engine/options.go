package engine

import (
	"log/slog"
	"time"

	"github.com/wsgate/wsgate/ws/wsflate"
)

// Defaults of Options, also the defaults of wsgate.Config and of the
// wsgate command's flags, which refer to them.
const (
	// DefaultMaxMessageSize is Options.MaxMessageSize's default: 1 MiB.
	DefaultMaxMessageSize = 1 << 20
	// DefaultMaxQueuedBytes is Options.MaxQueuedBytes's default: 1 MiB.
	DefaultMaxQueuedBytes = 1 << 20
)

// Options tune every connection an Engine serves. The zero value is
// ready to use; each field documents its default.
type Options struct {
	// Kind selects the engine: Auto (the zero value) is Epoll on Linux
	// and Goroutine elsewhere. New panics on a Kind that is not Supported,
	// except Uring where Epoll is: that falls back to Epoll, as does a
	// Uring engine whose first ring the kernel refuses, each with one
	// line to Logger.
	Kind Kind
	// Logger receives the engine's rare notices (a fallback from Uring to
	// Epoll). Nil means slog.Default().
	Logger *slog.Logger
	// MaxMessageSize limits one incoming message, in bytes; a larger one is
	// closed with 1009. A compressed message is checked on the wire and
	// again while it is inflated. Zero means 1 MiB; negative means no
	// limit.
	MaxMessageSize int64
	// MaxQueuedBytes limits the bytes waiting to be written to one
	// connection. While more wait, the connection is not read; one whose
	// queue stays over the limit for half of WriteTimeout, or would reach
	// twice the limit, is a slow consumer: its queue is dropped and it is
	// closed with 1008 (backpressure.go). Zero means 1 MiB. Control frames
	// do not count.
	MaxQueuedBytes int
	// PingInterval is how long a connection may stay silent before the
	// server sends a ping. Zero means 25s.
	PingInterval time.Duration
	// IdleTimeout closes (1001) a connection that has sent nothing, not
	// even a pong, for this long. Zero means 60s. It is raised to at
	// least twice PingInterval, so a live peer always has a ping to answer.
	IdleTimeout time.Duration
	// CloseTimeout is how long the closing handshake may take: after
	// sending a Close frame the server waits this long for the peer's
	// Close before it drops the TCP connection. Zero means 5s.
	CloseTimeout time.Duration
	// WriteTimeout drops a peer that accepts no byte for this long while
	// data waits for it (Goroutine: one socket write of at most 256 KiB
	// may take this long). Zero means 10s.
	WriteTimeout time.Duration
	// ReadBufferSize is the size in bytes of the buffer each connection
	// reads into under the Goroutine engine. Zero means 4 KiB. Epoll loops
	// read into one buffer per loop of at least 64 KiB; Uring loops
	// receive into 256 buffers of 16 KiB per loop, shared with the kernel.
	ReadBufferSize int
	// MaxBufferedInput is the Engine's budget, in bytes, for input held
	// on behalf of clients: what its connections' decoders hold of
	// partial frames and unfinished (fragmented, or split across reads)
	// messages, plus what callers reserve with ReserveInput (a call's
	// arguments, a queued publication). While it is spent, connections
	// that hold a partial message are not read (TCP pushes back on their
	// clients) until bytes are freed; connections between messages are
	// still read, a few hundred bytes at a time, so pongs and Close
	// frames arrive. A client that stalls inside a message is still
	// closed by IdleTimeout. Zero means DefaultMaxBufferedInput (256 MiB);
	// negative means no budget (the bytes are still counted in Stats).
	MaxBufferedInput int64
	// Codec compresses and decompresses the messages of connections that
	// negotiated permessage-deflate (RFC 7692), and counts its work. It
	// is shared by every connection and not owned: the caller keeps it.
	// Nil turns compression off: Serve then ignores the Params it is given.
	Codec *wsflate.Codec
}

func (o Options) withDefaults() Options {
	o.Kind = o.Kind.resolve()
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxMessageSize == 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	if o.MaxBufferedInput == 0 {
		o.MaxBufferedInput = DefaultMaxBufferedInput
	}
	if o.MaxQueuedBytes <= 0 {
		o.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 25 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 60 * time.Second
	}
	if o.IdleTimeout < 2*o.PingInterval {
		o.IdleTimeout = 2 * o.PingInterval
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = 5 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.ReadBufferSize <= 0 {
		o.ReadBufferSize = 4 << 10
	}
	return o
}
