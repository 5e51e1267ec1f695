package wsgate

import (
	"context"

	"github.com/wsgate/wsgate/ws"
)

// DrainReason is the reason in the Close frame Drain sends, with code
// 1012 (service restart).
const DrainReason = "node draining: reconnect to another node"

// DrainRefusal is the message of the unavailable error with which a
// draining node refuses a request on a connection it has not closed yet.
// The request was not run: a client may send it again on its next
// connection, as the wsgate clients do.
const DrainRefusal = "node draining: send it to another node"

// Drain stops the server the way a node of a cluster leaves it: it is
// marked draining (Draining reports true, so the node registry and
// /edge/ping tell clients not to come here), new connections and calls are
// refused (503), running calls may finish and send their replies, then
// every connection gets a Close frame with 1012 (service restart) and
// DrainReason, which tells a wsgate client to reconnect at once to the
// next nearest node and resume its subscriptions there. Drain waits for
// the connections to end; when ctx ends first, the rest is cut short and
// ctx's error returned. Like Shutdown, it leaves an http.Server the Server
// is mounted on running, so that /edge/ping and /healthz still answer
// while clients leave; shut that down after Drain.
func (s *Server) Drain(ctx context.Context) error {
	s.draining.Store(true)
	return s.shutdown(ctx, ws.StatusServiceRestart, DrainReason)
}

// Draining reports whether Drain was called.
func (s *Server) Draining() bool { return s.draining.Load() }

// refusal is the message of the unavailable error a request gets once
// the server stops taking them.
func (s *Server) refusal() string {
	if s.draining.Load() {
		return DrainRefusal
	}
	return "server shutting down"
}
