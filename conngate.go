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
// refused and which limit did. An admitted connection gives its place
// back with release(key), exactly once. key is the zero Addr when there
// is no per-IP cap, so that connections need not keep one.
func (g *connGate) admit(r *http.Request) (key netip.Addr, refusal string, by limit) {
	key = g.keyOf(r.RemoteAddr)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.max > 0 && g.total >= g.max {
		return key, "server at its connection limit (" + strconv.Itoa(g.max) + ")", limitMaxConns
	}
	if key.IsValid() && g.byIP[key] >= g.perIP {
		return key, "too many connections from this address (" + strconv.Itoa(g.perIP) + ")", limitMaxConnsPerIP
	}
	g.total++
	if key.IsValid() {
		g.byIP[key]++
	}
	return key, "", 0
}

// keyOf is the address a connection from remote ("ip:port") is counted
// under: its IP while there is a per-IP cap, else the zero Addr.
func (g *connGate) keyOf(remote string) netip.Addr {
	if g.perIP <= 0 {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
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
