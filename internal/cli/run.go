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
	"time"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/internal/demo"
	"github.com/wsgate/wsgate/metrics"
	"github.com/wsgate/wsgate/web"
)

// Run runs the wsgate command: "wsgate version" prints the version;
// otherwise it serves wsgate as args and the environment say until ctx is done,
// then shuts down gracefully: new connections are refused, running calls
// finish, and every connection is closed with 1001. ready, when not nil,
// receives the listening address once the server accepts connections.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- net.Addr) error {
	if len(args) > 0 && args[0] == "version" {
		fmt.Fprintln(stdout, version())
		return nil
	}
	if len(args) > 0 && args[0] == "bench" {
		return runBench(ctx, args[1:], stdout, stderr)
	}
	o, err := parseFlags(args, getenv, stderr)
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

	site := web.Handler()
	if o.static != "" {
		if st, err := os.Stat(o.static); err != nil || !st.IsDir() {
			return fmt.Errorf("cli: --static %q: not a directory", o.static)
		}
		site = http.FileServerFS(os.DirFS(o.static))
	}
	withDemo := o.backend == "" // the built-in demo answers calls when no backend is given
	var canPublish func(context.Context, string) error
	if withDemo {
		canPublish = demoChannelsReadOnly
	}
	srv, err := wsgate.New(wsgate.Config{
		MaxMessageSize: o.maxMessageSize,
		Engine:         o.engine,
		Compression: wsgate.CompressionConfig{
			Disabled:        !o.compression,
			Level:           o.compLevel,
			Threshold:       o.compThreshold,
			ContextTakeover: o.compContexts,
			MaxContexts:     o.compMaxCtx,
		},
		Backend:        o.backend,
		CacheSize:      o.cacheSize,
		AllowedOrigins: splitList(o.allowedOrigins),
		APIKey:         o.apiKey,
		DisableEcho:    !o.echo,
		CanPublish:     canPublish,
		Logger:         logger,
		Files:          site,
	})
	if err != nil {
		return err
	}
	if withDemo {
		demo.Register(srv)
	}

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("cli: listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mux.Handle("/metrics", metrics.Handler(srv))
	httpSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()

	tickCtx, stopTicks := context.WithCancel(context.Background())
	ticked := make(chan error, 1)
	if withDemo {
		go func() { ticked <- demo.RunTicks(tickCtx, srv, demo.DefaultTickInterval) }()
	} else {
		ticked <- nil
	}

	logger.Info("wsgate listening", "addr", ln.Addr().String(), "demo", "http://"+displayAddr(ln.Addr()))
	if ready != nil {
		ready <- ln.Addr()
	}

	select {
	case <-ctx.Done():
	case err = <-served:
		err = fmt.Errorf("cli: serve: %w", err)
	}
	logger.Info("wsgate shutting down", "grace", o.shutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownGrace)
	defer cancel()
	stopTicks()
	<-ticked
	httpDone := make(chan error, 1)
	go func() { httpDone <- httpSrv.Shutdown(sctx) }()
	if e := srv.Shutdown(sctx); e != nil && err == nil {
		err = fmt.Errorf("cli: shutdown: %w", e)
	}
	if e := <-httpDone; e != nil && err == nil {
		err = fmt.Errorf("cli: http shutdown: %w", e)
	}
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		logger.Info("wsgate stopped")
		return nil
	}
	return err
}

// version is the module version and VCS revision the binary was built from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "wsgate (unknown version)"
	}
	v := "wsgate " + bi.Main.Version
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
	return v + " " + bi.GoVersion
}

// demoChannelsReadOnly keeps clients from publishing fake prices on the
// demo's channel; every other channel is open to them.
func demoChannelsReadOnly(_ context.Context, channel string) error {
	if channel == demo.TicksChannel {
		return wsgate.Errorf(wsgate.CodeForbidden, "channel %q is published by the server only", channel)
	}
	return nil
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
