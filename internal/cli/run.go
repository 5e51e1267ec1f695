package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/internal/demo"
	"github.com/wsgate/wsgate/internal/edge"
	"github.com/wsgate/wsgate/internal/memtrim"
	"github.com/wsgate/wsgate/internal/static"
	"github.com/wsgate/wsgate/metrics"
	"github.com/wsgate/wsgate/web"
)

// Run runs the wsgate command: "wsgate version" (or --version) prints the
// version, "wsgate help" and --help the help, "wsgate bench" is the load
// tool; otherwise it serves wsgate as args and the environment say until
// ctx is done, then shuts down gracefully: new connections are refused,
// running calls finish, and every connection is closed with 1001. ready,
// when not nil, receives the listening address once the server accepts
// connections. A returned error's message is whole, prefixed once
// ("wsgate: …", "wsgate bench: …"); Report prints it.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- net.Addr) error {
	if len(args) > 0 {
		switch args[0] {
		case "version", "-version", "--version":
			fmt.Fprintln(stdout, version())
			return nil
		case "help":
			return help(ctx, args[1:], getenv, stdout, stderr)
		case "bench":
			return runBench(ctx, args[1:], stdout, stderr)
		case "nodes":
			return runNodes(ctx, args[1:], stdout)
		case "delayproxy":
			return runDelayProxy(ctx, args[1:], stdout, stderr, nil)
		}
	}
	o, err := parseFlags(args, getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	level, err := o.level()
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	authn, err := o.auth.authenticator(o.backend, logger)
	if err != nil {
		return err
	}
	defer authn.close()
	if o.auth.mode == "jwt" {
		authn.token = o.perms.withClaims(authn.token)
	}
	site, err := siteHandler(o)
	if err != nil {
		return err
	}
	defer site.Close()
	// Compressing the static files at their best levels leaves tens of
	// megabytes of garbage; hand it back to the system now, so that the
	// process's RSS shows what serving costs from the start.
	debug.FreeOSMemory()
	withDemo := o.backend == "" // the built-in demo answers calls when no backend is given
	var canPublish func(context.Context, string) error
	if withDemo {
		canPublish = demoChannelsReadOnly
	}
	// Listen first: the public URL's default needs the port.
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("wsgate: %w", err)
	}
	if o.publicURL == "" {
		o.publicURL = publicURL(ln.Addr(), os.Hostname)
	}
	broker, err := o.broker.newBroker(logger)
	if err != nil {
		ln.Close()
		return err
	}
	defer broker.Close() // after the Server's shutdown, below
	srv, err := wsgate.New(wsgate.Config{
		Broker:         broker,
		NodeID:         o.nodeID,
		Region:         o.region,
		PublicURL:      o.publicURL,
		MaxMessageSize: o.maxMessageSize,
		Engine:         o.engine,
		Compression: wsgate.CompressionConfig{
			Disabled:        !o.compression,
			Level:           o.compLevel,
			Threshold:       o.compThreshold,
			ContextTakeover: o.compContexts,
			MaxContexts:     o.compMaxCtx,
		},
		MaxConns:                o.maxConns,
		MaxConnsPerIP:           o.maxConnsPerIP,
		MaxMessagesPerSecond:    o.maxMsgRate,
		MaxBufferedInput:        o.maxInput,
		MaxQueuedBytes:          o.maxQueued,
		MaxSubscriptionsPerConn: o.maxSubs,
		HandshakeTimeout:        o.handshakeTimeout,
		Backend:                 o.backend,
		CacheSize:               o.cacheSize,
		AllowedOrigins:          splitList(o.allowedOrigins),
		APIKey:                  o.apiKey,
		DisableEcho:             !o.echo,
		CanPublish:              canPublish,
		Authenticate:            authn.token,
		AuthenticateHandshake:   authn.handshake,
		Permissions:             o.perms.permissions(),
		AuthTimeout:             o.auth.timeout,
		AuthQueryToken:          o.auth.queryToken,
		Logger:                  logger,
		Files:                   site,
	})
	if err != nil {
		ln.Close()
		return err
	}
	if withDemo {
		demo.Register(srv)
	}

	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mux.Handle("/metrics", metrics.Handler(srv))
	httpSrv := newHTTPServer(mux, o, logger, srv.Conns)
	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()

	tickCtx, stopTicks := context.WithCancel(context.Background())
	ticked := make(chan error, 1)
	if withDemo {
		go func() { ticked <- demo.RunTicks(tickCtx, srv, demo.DefaultTickInterval) }()
	} else {
		ticked <- nil
	}
	trimCtx, stopTrim := context.WithCancel(context.Background())
	trimmed := make(chan struct{})
	go func() {
		defer close(trimmed)
		if o.memoryTrim > 0 {
			memtrim.Run(trimCtx, o.memoryTrim)
		}
	}()
	defer func() { stopTrim(); <-trimmed }()

	logger.Info("wsgate listening", whatIsServed(ln.Addr(), o)...)
	if ready != nil {
		ready <- ln.Addr()
	}

	select {
	case <-ctx.Done():
	case err = <-served:
		err = fmt.Errorf("wsgate: serve: %w", err)
	}
	logger.Info("wsgate shutting down", "grace", o.shutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownGrace)
	defer cancel()
	stopTicks()
	<-ticked
	// Drain first, with the listener open: clients get 1012 and move to
	// another node while this one still answers /edge/ping (draining) and
	// /healthz; then the HTTP server stops.
	if e := srv.Drain(sctx); e != nil && err == nil {
		err = fmt.Errorf("wsgate: drain: %w", e)
	}
	if e := httpSrv.Shutdown(sctx); e != nil && err == nil {
		err = fmt.Errorf("wsgate: http shutdown: %w", e)
	}
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		logger.Info("wsgate stopped")
		return nil
	}
	return err
}

// buildVersion is the version given at build time, which make build sets
// from git describe:
//
//	go build -ldflags "-X github.com/wsgate/wsgate/internal/cli.buildVersion=$(git describe --always --dirty)" ./cmd/wsgate
//
// It is set by the linker only and never written at run time.
var buildVersion string

// version is "wsgate VERSION GO": the version embedded at build time, or
// else the module version and VCS revision the Go toolchain recorded.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	return versionText(buildVersion, bi, ok)
}

// versionText is version's text for a build-time version (may be empty)
// and the binary's build information.
func versionText(built string, bi *debug.BuildInfo, ok bool) string {
	if !ok {
		if built == "" {
			built = "(unknown version)"
		}
		return "wsgate " + built
	}
	v := built
	if v == "" {
		v = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v += " " + s.Value
			case "vcs.modified":
				if s.Value == "true" {
					v += "+dirty"
				}
			}
		}
	}
	return "wsgate " + v + " " + bi.GoVersion
}

// demoChannelsReadOnly keeps clients from publishing fake prices on the
// demo's channel; every other channel is open to them.
func demoChannelsReadOnly(_ context.Context, channel string) error {
	if channel == demo.TicksChannel {
		return wsgate.Errorf(wsgate.CodeForbidden, "channel %q is published by the server only", channel)
	}
	return nil
}

// publicURL is --public-url's default for a server listening at a:
// http://HOST:PORT, HOST the address's host or, when it names none
// (":8080", "0.0.0.0", "::"), the machine's host name, for other nodes
// and clients on the network; "localhost" when the host name is unknown.
// It is empty (unknown) when that makes no valid URL (an IPv6 address
// with a zone).
func publicURL(a net.Addr, hostname func() (string, error)) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
		if h, err := hostname(); err == nil && h != "" {
			host = h
		}
	}
	u := "http://" + net.JoinHostPort(host, port)
	if edge.CheckURL(u) != nil {
		return ""
	}
	return u
}

// displayAddr turns ":8080"-style listen addresses into something a
// browser can open.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil || host == "" || host == "::" || host == "0.0.0.0" {
		return "localhost:" + port
	}
	return a.String()
}

// siteHandler serves what / serves: the files of --static DIR, or the
// embedded demo page, both read once through internal/static, their
// pages naming fingerprinted files through --cdn-url when it is set.
func siteHandler(o options) (*static.Handler, error) {
	opts := static.Options{CDNURL: o.cdnURL}
	if o.static == "" {
		h, err := static.New(web.Files(), opts)
		if err != nil {
			return nil, fmt.Errorf("wsgate: demo page: %w", err)
		}
		return h, nil
	}
	if st, err := os.Stat(o.static); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("wsgate: --static %q: not a directory", o.static)
	}
	h, err := static.Open(o.static, opts)
	if err != nil {
		return nil, fmt.Errorf("wsgate: --static %q: %w", o.static, err)
	}
	return h, nil
}

// whatIsServed describes for the start-up log what the server answers with:
// its address, where calls go (the built-in demo backend or --backend),
// what / serves (the demo page or --static DIR), and the broker.
func whatIsServed(addr net.Addr, o options) []any {
	calls, files := "built-in demo (market.symbols, market.history, demo.stats, channel ticks)", "demo page"
	if o.backend != "" {
		calls = o.backend
		files = "demo page (made for the demo backend, which --backend replaces: the page says so)"
	}
	if o.static != "" {
		files = o.static
	}
	broker := "in-memory (single node)"
	if o.broker.nats != "" {
		broker = "NATS (--nats)"
	}
	attrs := []any{"addr", addr.String(), "url", "http://" + displayAddr(addr), "backend", calls, "files", files, "broker", broker}
	if o.cdnURL != "" {
		attrs = append(attrs, "cdn", o.cdnURL)
	}
	return append(attrs, "auth", o.auth.mode)
}
