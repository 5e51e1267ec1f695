package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/internal/cache"
	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/internal/static"
)

// options are the command line's settings, after flags and environment.
type options struct {
	listen         string
	echo           bool
	maxMessageSize int64
	allowedOrigins string
	apiKey         string
	static         string
	cdnURL         string
	logLevel       string
	shutdownGrace  time.Duration
	engine         wsgate.EngineKind
	backend        string
	cacheSize      int64
	compression    bool
	compLevel      int
	compThreshold  int
	compContexts   bool
	compMaxCtx     int

	maxConns         int
	maxConnsPerIP    int
	maxMsgRate       int
	maxInput         int64
	maxQueued        int
	maxSubs          int
	headerTimeout    time.Duration
	requestTimeout   time.Duration
	keepAliveTimeout time.Duration
	handshakeTimeout time.Duration

	memoryTrim time.Duration // 0: never

	nodeID    string // empty: wsgate.Config derives one
	region    string
	publicURL string // empty: derived from the listen address (publicURL)

	broker brokerOptions
	auth   authOptions
	perms  permissionOptions
}

// envName is the environment twin of a flag: --max-message-size is
// WSGATE_MAX_MESSAGE_SIZE.
func envName(flagName string) string {
	return "WSGATE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags reads args, with defaults taken from the environment where a
// twin is set. A flag given on the command line wins over its twin. With
// --help it prints the help to stdout and returns flag.ErrHelp; a mistake
// is returned, not printed.
func parseFlags(args []string, getenv func(string) string, stdout io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("wsgate", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // mistakes are returned; the help is printed below
	fs.StringVar(&o.listen, "listen", ":8080", "listen address")
	fs.BoolVar(&o.echo, "echo", true, "serve /echo, a WebSocket that echoes every message (for conformance suites and benchmarks)")
	fs.Int64Var(&o.maxMessageSize, "max-message-size", engine.DefaultMaxMessageSize, "largest incoming message in bytes; larger ones close the connection with 1009")
	fs.StringVar(&o.allowedOrigins, "allowed-origins", "", "comma-separated Origin allowlist for the WebSocket handshake (empty: any origin)")
	fs.StringVar(&o.apiKey, "api-key", "", "key required on /api/* as 'Authorization: Bearer KEY' (empty: /api/* is off)")
	fs.StringVar(&o.static, "static", "", "serve the files of this directory at / instead of the demo page: read once at start, fingerprinted URLs cached for ever, pages rewritten to them, gzip and brotli built once")
	fs.StringVar(&o.cdnURL, "cdn-url", "", "absolute http(s) URL of a CDN in front of this node, e.g. https://cdn.example.com: pages (--static's or the demo's) name their fingerprinted files through it; pages are still served here")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&o.backend, "backend", "", "HTTP backend for calls: a call of method M is POST URL/M with the args as body (default: the built-in demo backend)")
	fs.Int64Var(&o.cacheSize, "cache-size", cache.DefaultMaxBytes, "response cache bound in bytes; results are kept as the backend's Cache-Control says (negative: no cache)")
	fs.Var((*engineFlag)(&o.engine), "engine", "connection engine: auto (epoll on Linux, goroutines elsewhere; TLS always uses goroutines), epoll, uring (epoll's loops on io_uring; epoll where the kernel refuses it) or goroutine")
	fs.BoolVar(&o.compression, "compression", true, "accept permessage-deflate (RFC 7692) from clients that offer it")
	fs.IntVar(&o.compLevel, "compression-level", 1, "DEFLATE level: 1 (fastest) to 9 (smallest), or -2 for Huffman-only")
	fs.IntVar(&o.compThreshold, "compression-threshold", 256, "smallest message in bytes that is sent compressed")
	fs.BoolVar(&o.compContexts, "compression-context-takeover", false, "let connections keep their compressor between messages when the client allows it: streams of similar messages shrink more, at about 0.8 MB of memory per connection at level 1")
	fs.IntVar(&o.compMaxCtx, "compression-max-contexts", 64, "most connections holding a compressor at once with --compression-context-takeover; the others compress each message on its own")
	fs.IntVar(&o.maxConns, "max-conns", 0, "most WebSocket connections held at once; past it a handshake is answered 503 (0: the open-file limit less an eighth of it, at most 512 less; negative: no cap)")
	fs.IntVar(&o.maxConnsPerIP, "max-conns-per-ip", 0, "most WebSocket connections from one client IP; past it a handshake is answered 503 (0: no cap; behind a proxy or CDN every client has its address)")
	fs.IntVar(&o.maxMsgRate, "max-messages-per-second", wsgate.DefaultMaxMessagesPerSecond, "messages one /ws connection may send per second (a token bucket holding one second's worth); more are answered rate_limited (negative: no limit)")
	fs.Int64Var(&o.maxInput, "max-buffered-input", engine.DefaultMaxBufferedInput, "bytes held at most for all clients' unfinished messages, running calls' args and queued pub data; when spent, connections mid-message are not read and calls and pubs are answered unavailable (negative: no bound)")
	fs.IntVar(&o.maxQueued, "max-queued-bytes", engine.DefaultMaxQueuedBytes, "bytes waiting to be sent to one connection before it is not read (TCP pushes back); a client still over it after half the write timeout (5s), or reaching twice it, is closed with 1008")
	fs.IntVar(&o.maxSubs, "max-subscriptions-per-conn", wsgate.DefaultMaxSubscriptionsPerConn, "channels one connection may be subscribed to; a sub past it is answered too_large (negative: no cap)")
	fs.DurationVar(&o.headerTimeout, "header-timeout", 10*time.Second, "time a client has to send a request's headers, the WebSocket handshake's included")
	fs.DurationVar(&o.requestTimeout, "request-timeout", 30*time.Second, "time a client has to send a whole HTTP request, body included")
	fs.DurationVar(&o.keepAliveTimeout, "keep-alive-timeout", 60*time.Second, "how long an idle keep-alive HTTP connection is kept open")
	fs.DurationVar(&o.handshakeTimeout, "handshake-timeout", wsgate.DefaultHandshakeTimeout, "time a WebSocket handshake's answer may take to reach the client")
	fs.StringVar(&o.nodeID, "node-id", "", "this node's id in /edge/nodes and /edge/ping: letters, digits, '.', '-' or '_', one per node (default: the host name's first label and 6 random hex digits, new at each start)")
	fs.StringVar(&o.region, "region", "", "this node's region in /edge/nodes and /edge/ping, e.g. eu-west")
	fs.StringVar(&o.publicURL, "public-url", "", "the URL clients reach this node at, as /edge/nodes lists it (default: http://HOST:PORT of the listening address, HOST the host name when --listen names none)")
	fs.DurationVar(&o.memoryTrim, "memory-trim", 250*time.Millisecond, "how often to look whether the process went quiet (no garbage collection, under 1 MiB/s allocated) while its heap holds much more than is live, as after a storm of handshakes, and then give the unused memory back to the system, so that RSS shows what connections cost (0: never)")
	fs.DurationVar(&o.shutdownGrace, "shutdown-grace", 10*time.Second, "how long a shutdown waits for running calls and closing handshakes")
	o.broker.register(fs)
	o.auth.register(fs)
	o.perms.register(fs)
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("wsgate: %s=%q: %w", envName(f.Name), v, err)
			}
		}
	})
	if envErr != nil {
		return o, envErr
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usageHead)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return o, err
	} else if err != nil {
		return o, flagError(err)
	}
	if fs.NArg() > 0 {
		return o, &usageError{err: fmt.Errorf("wsgate: unexpected argument %q", fs.Arg(0)), help: "wsgate"}
	}
	return o, o.check()
}

// check validates what the flags' types do not: values the server would
// refuse with a message about its Config rather than the flag.
func (o options) check() error {
	if _, err := o.level(); err != nil {
		return err
	}
	if o.cdnURL != "" {
		if err := static.CheckCDNURL(o.cdnURL); err != nil {
			if reason := errors.Unwrap(err); reason != nil {
				err = reason
			}
			return fmt.Errorf("wsgate: --cdn-url %q: %w", o.cdnURL, err)
		}
	}
	if l := o.compLevel; l != -2 && (l < 1 || l > 9) {
		return fmt.Errorf("wsgate: --compression-level %d: want 1 to 9 or -2", l)
	}
	if err := o.auth.check(o.backend); err != nil {
		return err
	}
	if err := o.perms.check(); err != nil {
		return err
	}
	return o.broker.check()
}

func (o options) level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(o.logLevel)); err != nil {
		return 0, fmt.Errorf("wsgate: --log-level %q: want debug, info, warn or error", o.logLevel)
	}
	return l, nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// engineFlag is --engine: a wsgate.EngineKind whose error, shown after
// the flag's name, is not prefixed a second time with "wsgate:".
type engineFlag wsgate.EngineKind

func (e *engineFlag) String() string { return wsgate.EngineKind(*e).String() }

func (e *engineFlag) Set(s string) error {
	if err := (*wsgate.EngineKind)(e).UnmarshalText([]byte(s)); err != nil {
		return errors.New("want auto, epoll, uring or goroutine")
	}
	return nil
}
