package wsgate

import (
	"net/http"
	"net/netip"
	"strconv"
	"sync"
)

// connGate admits WebSocket connections under Config.MaxConns and
// Config.MaxConnsPerIP: a connection is counted from its handshake until
// OnClose, and a handshake past a cap is answered 503 before any
// WebSocket state is made. Safe for concurrent use.
type connGate struct {
	max, perIP int // 0: no cap

	mu    sync.Mutex
	total int                // guarded by mu
	byIP  map[netip.Addr]int // guarded by mu; only while perIP > 0
}

func newConnGate(max, perIP int) *connGate {
	return &connGate{max: max, perIP: perIP, byIP: make(map[netip.Addr]int)}
}

// admit counts a connection from r's address, or returns why it is
// refused and which limit did. release undoes admit; call it exactly
// once.
func (g *connGate) admit(r *http.Request) (release func(), refusal string, by limit) {
	var ip netip.Addr
	if g.perIP > 0 {
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err == nil {
			ip = ap.Addr().Unmap()
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.max > 0 && g.total >= g.max {
		return nil, "server at its connection limit (" + strconv.Itoa(g.max) + ")", limitMaxConns
	}
	if ip.IsValid() && g.byIP[ip] >= g.perIP {
		return nil, "too many connections from this address (" + strconv.Itoa(g.perIP) + ")", limitMaxConnsPerIP
	}
	g.total++
	if ip.IsValid() {
		g.byIP[ip]++
	}
	return func() { g.release(ip) }, "", 0
}

func (g *connGate) release(ip netip.Addr) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.total--
	if ip.IsValid() {
		if g.byIP[ip]--; g.byIP[ip] <= 0 {
			delete(g.byIP, ip)
		}
	}
}

// refuseHandshake answers a handshake the server will not take with
// status and a Retry-After hint.
func refuseHandshake(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Retry-After", "1")
	http.Error(w, msg, status)
}
