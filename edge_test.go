package wsgate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
)

// httpURL turns startServer's ws:// URL into the server's http:// one.
func httpURL(wsURL string) string { return "http" + strings.TrimPrefix(wsURL, "ws") }

// get fetches url with method and returns the answer, its body read.
func get(t *testing.T, method, url string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", "https://app.example.com")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return res, body
}

// nodesOf reads GET /edge/nodes of the server at base.
func nodesOf(t *testing.T, base string) []wsgate.NodeInfo {
	t.Helper()
	res, body := get(t, "GET", base+"/edge/nodes")
	var nodes []wsgate.NodeInfo
	if err := json.Unmarshal(body, &nodes); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET /edge/nodes: %d %q: %v", res.StatusCode, body, err)
	}
	return nodes
}

func nodeIDs(nodes []wsgate.NodeInfo) []string {
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = n.ID
	}
	return ids
}

// TestEdgeEndpoints checks the wire contract of /edge/ping and
// /edge/nodes on a single node: status, headers for browsers on other
// origins and caches, and the JSON.
func TestEdgeEndpoints(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, wsgate.Config{NodeID: "web1", Region: "eu-west", PublicURL: "https://eu1.example.com", MaxConns: 1000})
	base := httpURL(url)
	tests := []struct {
		method, path string
		code         int
		cache        string
		body         string
	}{
		{"GET", "/edge/ping", 200, "no-store", `{"node":"web1","region":"eu-west","conns":0,"draining":false}` + "\n"},
		{"HEAD", "/edge/ping", 200, "no-store", ""},
		{"GET", "/edge/nodes", 200, "max-age=5", `[{"node":"web1","region":"eu-west","url":"https://eu1.example.com","conns":0,"load":0,"draining":false}]` + "\n"},
		{"OPTIONS", "/edge/nodes", 204, "", ""},
		{"POST", "/edge/ping", 405, "", "method not allowed\n"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			res, body := get(t, tt.method, base+tt.path)
			if res.StatusCode != tt.code || string(body) != tt.body {
				t.Errorf("%d %q, want %d %q", res.StatusCode, body, tt.code, tt.body)
			}
			h := res.Header
			if h.Get("Cache-Control") != tt.cache || h.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("Cache-Control %q, Access-Control-Allow-Origin %q; want %q, *", h.Get("Cache-Control"), h.Get("Access-Control-Allow-Origin"), tt.cache)
			}
			if tt.code == 200 && h.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q, want application/json", h.Get("Content-Type"))
			}
		})
	}
}

// TestEdgeCountsWebSockets: a single node lists itself with the
// WebSocket connections it holds, /ws and /echo together, and its load
// against MaxConns.
func TestEdgeCountsWebSockets(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, url := startServer(t, wsgate.Config{Engine: eng, MaxConns: 100})
		base := httpURL(url)
		conns := []string{"/ws", "/ws", "/echo"}
		for i, path := range conns {
			c := dial(t, url+path)
			// One round trip: the server runs the connection now.
			if r := request(t, c, fmt.Sprintf(`{"id":%d,"call":"no.such"}`, i)); path == "/ws" && (r.Error == nil || r.Error.Code != "not_found") {
				t.Fatalf("call on %s: %+v", path, r)
			}
		}
		nodes := nodesOf(t, base)
		if len(nodes) != 1 || nodes[0].Conns != 3 || nodes[0].Load != 0.03 || nodes[0].Draining {
			t.Errorf("/edge/nodes = %+v, want this node alone with 3 conns, load 0.03", nodes)
		}
		if self := srv.Nodes(); !slices.Equal(self, nodes) {
			t.Errorf("Nodes() = %+v, /edge/nodes %+v", self, nodes)
		}
		var ping struct {
			Node  string `json:"node"`
			Conns int    `json:"conns"`
		}
		if _, body := get(t, "GET", base+"/edge/ping"); json.Unmarshal(body, &ping) != nil || ping.Conns != 3 || ping.Node != nodes[0].ID {
			t.Errorf("/edge/ping = %s, want node %q and 3 conns", body, nodes[0].ID)
		}
	})
}

// TestNodeConfig: the node's identity is checked by New, and an empty
// NodeID is derived from the host name.
func TestNodeConfig(t *testing.T) {
	t.Parallel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name string
		cfg  wsgate.Config
		err  string // "" for none
	}{
		{"derived id", wsgate.Config{}, ""},
		{"all set", wsgate.Config{NodeID: "eu1", Region: "eu-west", PublicURL: "https://eu1.example.com/gate"}, ""},
		{"bad id", wsgate.Config{NodeID: "eu 1"}, `wsgate: node id "eu 1": want 1 to 64 letters, digits, '.', '-' or '_'`},
		{"bad region", wsgate.Config{Region: "eu/west"}, `wsgate: region "eu/west": want up to 64 letters, digits, '.', '-' or '_'`},
		{"bad url", wsgate.Config{PublicURL: "eu1.example.com"}, `wsgate: public URL "eu1.example.com": want http:// or https://, a host and at most a path, up to 512 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cfg.Logger = quiet
			srv, err := wsgate.New(tt.cfg)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					srv.Close()
					t.Fatalf("New: %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			self := srv.Nodes()
			if len(self) != 1 || self[0].Region != tt.cfg.Region || self[0].URL != tt.cfg.PublicURL {
				t.Fatalf("Nodes() = %+v", self)
			}
			if tt.cfg.NodeID != "" && self[0].ID != tt.cfg.NodeID || self[0].ID == "" {
				t.Errorf("node id %q, want %q (or derived when empty)", self[0].ID, tt.cfg.NodeID)
			}
		})
	}
}

// nodeWire carries node heartbeats between the Servers of one process:
// an announcement reaches every watcher before AnnounceNode returns.
type nodeWire struct {
	mu       sync.Mutex // held while delivering: one order for all
	watchers map[*func([]byte)]struct{}
}

func (w *nodeWire) AnnounceNode(data []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for d := range w.watchers {
		(*d)(data)
	}
	return nil
}

func (w *nodeWire) WatchNodes(deliver func([]byte)) (func(), error) {
	d := &deliver
	w.mu.Lock()
	w.watchers[d] = struct{}{}
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		delete(w.watchers, d)
		w.mu.Unlock()
	}, nil
}

// clusterBroker is a Broker and NodeBus of an in-process cluster:
// publications go through one shared MemoryBroker, heartbeats through
// one nodeWire.
type clusterBroker struct {
	*wsgate.MemoryBroker
	*nodeWire
}

// TestEdgeNodesAcrossServers: /edge/nodes on each of three nodes lists
// all three; a node that shuts down is gone from the others' lists as
// soon as its Shutdown begins, without waiting for its heartbeats to
// expire.
func TestEdgeNodesAcrossServers(t *testing.T) {
	t.Parallel()
	b := clusterBroker{wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{}), &nodeWire{watchers: make(map[*func([]byte)]struct{})}}
	defer b.MemoryBroker.Close()
	var srvs []*wsgate.Server
	var bases []string
	for i, region := range []string{"us-east", "eu-west", "ap-south"} {
		srv, url := startServer(t, wsgate.Config{Broker: b, NodeID: fmt.Sprintf("n%d", i), Region: region, PublicURL: fmt.Sprintf("http://n%d.example.com", i)})
		srvs, bases = append(srvs, srv), append(bases, httpURL(url))
	}
	want := []string{"n2", "n1", "n0"} // by region: ap-south, eu-west, us-east
	for i, base := range bases {
		deadline := time.Now().Add(10 * time.Second) // a hang guard, not a measure
		for got := nodeIDs(nodesOf(t, base)); !slices.Equal(got, want); got = nodeIDs(nodesOf(t, base)) {
			if time.Now().After(deadline) {
				t.Fatalf("n%d lists %v, want %v", i, got, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if got := nodesOf(t, bases[0])[1]; got != (wsgate.NodeInfo{ID: "n1", Region: "eu-west", URL: "http://n1.example.com"}) {
		t.Errorf("n0 lists n1 as %+v", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srvs[1].Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 2} {
		if got := nodeIDs(nodesOf(t, bases[i])); !slices.Equal(got, []string{"n2", "n0"}) {
			t.Errorf("after n1 shut down, n%d lists %v", i, got)
		}
	}
	// n1 still answers while its http.Server runs, as draining.
	i := slices.IndexFunc(srvs[1].Nodes(), func(n wsgate.NodeInfo) bool { return n.ID == "n1" })
	if i < 0 || !srvs[1].Nodes()[i].Draining {
		t.Errorf("n1 after its Shutdown lists %+v, want itself draining", srvs[1].Nodes())
	}
}

// TestEdgeHandlerMounted: /edge/* is the Server's even with Files serving
// every other path.
func TestEdgeHandlerMounted(t *testing.T) {
	t.Parallel()
	files := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "file") })
	_, url := startServer(t, wsgate.Config{Files: files})
	if _, body := get(t, "GET", httpURL(url)+"/edge/ping"); !strings.HasPrefix(string(body), `{"node":`) {
		t.Errorf("/edge/ping = %q", body)
	}
	if _, body := get(t, "GET", httpURL(url)+"/edge/other"); string(body) != "file" {
		t.Errorf("/edge/other = %q, want Files' answer", body)
	}
}
