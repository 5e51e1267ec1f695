package wsgate

import (
	"errors"
	"net/http"
	"net/netip"
	"time"

	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/ws"
)

// Handler returns the server's HTTP endpoints: /ws, /echo (unless
// Config.DisableEcho), /api/publish, /api/publish/batch and
// /api/cache/invalidate (when
// Config.APIKey is set), /edge/ping and /edge/nodes (see Server.Nodes;
// any origin may read both), /healthz, /readyz, and Config.Files for
// every other path. Mount it on an http.ServeMux beside your own handlers, or
// serve it directly. It serves no /metrics: mount metrics.Handler (package
// github.com/wsgate/wsgate/metrics) there for Prometheus, or read Stats.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/ws", s.WebSocketHandler())
	if !s.cfg.DisableEcho {
		mux.Handle("/echo", s.EchoHandler())
	}
	if s.cfg.APIKey != "" {
		mux.HandleFunc("/api/publish", s.apiPublish)
		mux.HandleFunc("/api/publish/batch", s.apiPublishBatch)
		mux.HandleFunc("/api/cache/invalidate", s.apiInvalidate)
	}
	mux.Handle("/edge/ping", s.nodes.PingHandler())
	mux.Handle("/edge/nodes", s.nodes.NodesHandler())
	if s.cfg.Files != nil {
		mux.Handle("/", s.cfg.Files)
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if s.stopping.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		if err := s.brokerReady(); err != nil {
			http.Error(w, "broker not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	return mux
}

// WebSocketHandler returns the /ws endpoint alone: the JSON envelope of
// calls, subscriptions and publications.
func (s *Server) WebSocketHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, &s.wsUp, func(key netip.Addr) engine.Handler {
			var id *Identity
			if s.cfg.Authenticate != nil || s.cfg.AuthenticateHandshake != nil {
				var ok bool
				if id, ok = s.handshakeAuth(w, r); !ok {
					return nil
				}
			}
			return newSession(s, key, id)
		})
	})
}

// EchoHandler returns the /echo endpoint alone: every message comes back
// unchanged, text as text and binary as binary.
func (s *Server) EchoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, &s.echoUp, func(key netip.Addr) engine.Handler {
			if key.IsValid() {
				return s.metrics.wrap(endpointEcho, echoHandler{}, s.gate, key)
			}
			return s.echoCounted // no per-IP cap: one for all
		})
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, up *ws.Upgrader, newHandler func(key netip.Addr) engine.Handler) {
	if s.stopping.Load() {
		refuseHandshake(w, http.StatusServiceUnavailable, "server shutting down")
		return
	}
	key, refusal, by := s.gate.admit(r)
	if refusal != "" {
		s.limited.bite(by)
		refuseHandshake(w, http.StatusServiceUnavailable, refusal)
		return
	}
	// newHandler may answer the request itself (a refused token): then
	// it returns nil.
	h := newHandler(key)
	if h == nil {
		s.gate.release(key)
		return
	}
	// The answer must reach the client in time; the engine sets its own
	// deadlines once it runs the connection.
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	// Upgrade returns once the connection is handed over: under the epoll
	// engine a plaintext *net.TCPConn moves to an event loop; a TLS
	// connection (*tls.Conn), like every connection under
	// EngineGoroutine, gets two goroutines of its own. The engine's Codec
	// negotiates compression. On an error the handler is never called, so
	// the connection's place in the gate is given back here.
	if err := s.engine.Upgrade(w, r, up, h); err != nil {
		s.gate.release(key)
		var he *ws.HandshakeError
		if !errors.As(err, &he) {
			s.log.Debug("websocket connection not served", "remote", r.RemoteAddr, "err", err)
		}
	}
}

// echoHandler sends every message back as it came.
type echoHandler struct{}

func (echoHandler) OnOpen(*engine.Conn) {}

func (echoHandler) OnMessage(c *engine.Conn, op ws.Opcode, payload []byte) {
	c.WriteMessage(op, payload)
}

func (echoHandler) OnClose(*engine.Conn, error) {}
