package cli

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/internal/cache"
	"github.com/wsgate/wsgate/internal/engine"
)

// options are the command line's settings, after flags and environment.
type options struct {
	listen         string
	echo           bool
	maxMessageSize int64
	allowedOrigins string
	apiKey         string
	static         string
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
}

// envName is the environment twin of a flag: --max-message-size is
// WSGATE_MAX_MESSAGE_SIZE.
func envName(flagName string) string {
	return "WSGATE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags reads args, with defaults taken from the environment where a
// twin is set. A flag given on the command line wins over its twin.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("wsgate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.listen, "listen", ":8080", "listen address")
	fs.BoolVar(&o.echo, "echo", true, "serve /echo, a WebSocket that echoes every message (for conformance suites and benchmarks)")
	fs.Int64Var(&o.maxMessageSize, "max-message-size", engine.DefaultMaxMessageSize, "largest incoming message in bytes; larger ones close the connection with 1009")
	fs.StringVar(&o.allowedOrigins, "allowed-origins", "", "comma-separated Origin allowlist for the WebSocket handshake (empty: any origin)")
	fs.StringVar(&o.apiKey, "api-key", "", "key required on /api/* as 'Authorization: Bearer KEY' (empty: /api/* is off)")
	fs.StringVar(&o.static, "static", "", "serve the files of this directory at / instead of the demo page")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&o.backend, "backend", "", "HTTP backend for calls: a call of method M is POST URL/M with the args as body (default: the built-in demo backend)")
	fs.Int64Var(&o.cacheSize, "cache-size", cache.DefaultMaxBytes, "response cache bound in bytes; results are kept as the backend's Cache-Control says (negative: no cache)")
	fs.TextVar(&o.engine, "engine", wsgate.EngineAuto, "connection engine: auto (epoll on Linux, goroutines elsewhere; TLS always uses goroutines), epoll or goroutine")
	fs.BoolVar(&o.compression, "compression", true, "accept permessage-deflate (RFC 7692) from clients that offer it")
	fs.IntVar(&o.compLevel, "compression-level", 1, "DEFLATE level: 1 (fastest) to 9 (smallest), or -2 for Huffman-only")
	fs.IntVar(&o.compThreshold, "compression-threshold", 256, "smallest message in bytes that is sent compressed")
	fs.BoolVar(&o.compContexts, "compression-context-takeover", false, "let connections keep their compressor between messages when the client allows it: streams of similar messages shrink more, at about 0.8 MB of memory per connection at level 1")
	fs.IntVar(&o.compMaxCtx, "compression-max-contexts", 64, "most connections holding a compressor at once with --compression-context-takeover; the others compress each message on its own")
	fs.DurationVar(&o.shutdownGrace, "shutdown-grace", 10*time.Second, "how long a shutdown waits for running calls and closing handshakes")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: wsgate [flags]\n       wsgate version\n\nServes /ws, /echo, /api/publish, /healthz, /readyz and static files on one listener.\nEvery flag has an environment twin: --max-message-size is WSGATE_MAX_MESSAGE_SIZE.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("cli: %s=%q: %w", envName(f.Name), v, err)
			}
		}
	})
	if envErr != nil {
		return o, envErr
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("cli: unexpected argument %q (see wsgate --help)", fs.Arg(0))
	}
	return o, nil
}

func (o options) level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(o.logLevel)); err != nil {
		return 0, fmt.Errorf("cli: --log-level %q: want debug, info, warn or error", o.logLevel)
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
