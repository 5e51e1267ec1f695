package cli

import (
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/wsgate/wsgate/internal/fdlimit"
)

// newHTTPServer returns the http.Server of the wsgate command: the
// timeouts of the flags, and connState guarding the open-file limit
// against connections that hold a descriptor while doing nothing.
// wsConns reports the WebSocket connections held, which use descriptors
// too.
func newHTTPServer(h http.Handler, o options, logger *slog.Logger, wsConns func() int) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: o.headerTimeout,
		ReadTimeout:       o.requestTimeout,
		IdleTimeout:       o.keepAliveTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	g := newConnGuard(srv, fdlimit.Open(), logger, wsConns)
	srv.ConnState = g.connState
	return srv
}

// connGuard counts the plain HTTP connections of an http.Server (hijacked
// WebSocket connections leave its count: the WebSocket server caps those
// itself) and keeps them from using up the process's open files:
//   - past high (a quarter of the open-file limit), keep-alives are
//     turned off, which closes every idle keep-alive connection at once,
//     until the count is back under low (an eighth);
//   - when HTTP and WebSocket connections together pass max (the limit
//     less 64), a new connection is answered 503 and closed.
//
// So requests such as /healthz still get a descriptor under a flood of
// idle clients, and when the WebSocket cap is reached.
// Safe for concurrent use: net/http calls connState from each
// connection's goroutine.
type connGuard struct {
	srv            *http.Server
	log            *slog.Logger
	wsConns        func() int
	high, low, max int64 // 0: no limit known, no guard
	open           atomic.Int64
	pressed        atomic.Bool // keep-alives are off
}

func newConnGuard(srv *http.Server, limit uint64, logger *slog.Logger, wsConns func() int) *connGuard {
	g := &connGuard{srv: srv, log: logger, wsConns: wsConns}
	if limit > 256 && limit < 1<<30 {
		g.high = int64(limit / 4)
		g.low = g.high / 2
		g.max = int64(limit - 64)
	}
	return g
}

// refusal is what a connection past max gets before it is closed.
const (
	refusalBody = "too many open connections\n"
	refusal     = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 26\r\n\r\n" + refusalBody
)

func (g *connGuard) connState(c net.Conn, st http.ConnState) {
	if g.max == 0 {
		return
	}
	switch st {
	case http.StateNew:
		n := g.open.Add(1)
		if n+int64(g.wsConns()) > g.max {
			c.SetWriteDeadline(time.Now().Add(time.Second))
			c.Write([]byte(refusal))
			c.Close() // StateClosed follows and counts it out
			return
		}
		if n > g.high && g.pressed.CompareAndSwap(false, true) {
			g.log.Warn("many idle HTTP connections: keep-alives off until they drop", "open", n, "threshold", g.high)
			g.srv.SetKeepAlivesEnabled(false)
		}
	case http.StateHijacked, http.StateClosed:
		if n := g.open.Add(-1); n < g.low && g.pressed.CompareAndSwap(true, false) {
			g.srv.SetKeepAlivesEnabled(true)
		}
	}
}
