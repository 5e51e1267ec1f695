package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Paths of the edge endpoints, and the fallback for timing a node that
// has no /edge/ping.
const (
	nodesPath   = "/edge/nodes"
	pingPath    = "/edge/ping"
	healthzPath = "/healthz"
)

// maxEdgeBody bounds what is read of an /edge answer, in bytes.
const maxEdgeBody = 1 << 20

// edgeNode is a node as /edge/nodes lists it, and the part of /edge/ping
// a client uses.
type edgeNode struct {
	Node     string `json:"node"`
	Region   string `json:"region"`
	URL      string `json:"url"`
	Conns    int    `json:"conns"`
	Draining bool   `json:"draining"`
}

// prober finds the nodes of a cluster and times them over HTTP. It is
// safe for concurrent use.
type prober struct {
	http   *http.Client
	seeds  []string // base URLs
	probes int

	mu     sync.Mutex      // guards noPing
	noPing map[string]bool // nodes whose /edge/ping answered 404: timed with /healthz
}

// survey discovers the nodes and probes them all in parallel.
func (p *prober) survey(ctx context.Context) []probeResult {
	listed := p.discover(ctx)
	nodes := candidates(listed, p.seeds)
	results := make([]probeResult, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { results[i] = p.probeNode(ctx, n) })
	}
	wg.Wait()
	return merge(results, listed)
}

// discover asks every seed at once for /edge/nodes and returns the first
// non-empty list to arrive (the nearest seed's, as a rule); the other
// requests are cancelled. It returns nil when no seed answers with one
// (the endpoint may not exist, or the seeds are down).
func (p *prober) discover(ctx context.Context) []edgeNode {
	ctx, cancel := context.WithCancel(ctx)
	lists := make(chan []edgeNode, len(p.seeds)) // never blocks a sender
	var wg sync.WaitGroup
	for _, seed := range p.seeds {
		wg.Go(func() {
			nodes, err := p.fetchNodes(ctx, seed)
			if err != nil {
				nodes = nil
			}
			lists <- nodes
		})
	}
	var found []edgeNode
	for range p.seeds {
		if found = <-lists; len(found) > 0 {
			break
		}
	}
	cancel()
	wg.Wait()
	return found
}

// fetchNodes reads seed's /edge/nodes. URLs are normalised; one that is
// missing or unusable is left empty (a node that does not know its
// public address lists itself without one).
func (p *prober) fetchNodes(ctx context.Context, seed string) ([]edgeNode, error) {
	body, err := p.get(ctx, seed+nodesPath)
	if err != nil {
		return nil, err
	}
	var listed []edgeNode
	if err := json.Unmarshal(body, &listed); err != nil {
		return nil, fmt.Errorf("client: %s%s: %w", seed, nodesPath, err)
	}
	for i := range listed {
		listed[i].URL, _ = baseURL(listed[i].URL) // "" when unusable
	}
	return listed, nil
}

// candidates returns the nodes to probe: those listed with a URL, then
// the seeds not among them (a seed is a node the user named, and the
// list may not know its address, or it may not be complete), each URL
// once.
func candidates(listed []edgeNode, seeds []string) []edgeNode {
	seen := make(map[string]bool, len(listed)+len(seeds))
	var nodes []edgeNode
	for _, n := range listed {
		if n.URL != "" && !seen[n.URL] {
			seen[n.URL] = true
			nodes = append(nodes, n)
		}
	}
	for _, s := range seeds {
		if !seen[s] {
			seen[s] = true
			nodes = append(nodes, edgeNode{URL: s})
		}
	}
	return nodes
}

// merge folds results that are one node reached at two URLs (the same id
// in /edge/ping; a seed and the node's listed URL, say) into the first,
// and marks draining every result whose id the list says is draining,
// listed with a URL or not.
func merge(results []probeResult, listed []edgeNode) []probeResult {
	draining := make(map[string]bool)
	for _, n := range listed {
		if n.Draining && n.Node != "" {
			draining[n.Node] = true
		}
	}
	first := make(map[string]int) // id → index in out
	out := results[:0:0]
	for _, r := range results {
		if r.ID == "" {
			out = append(out, r)
			continue
		}
		r.Draining = r.Draining || draining[r.ID]
		if i, ok := first[r.ID]; ok {
			out[i].Draining = out[i].Draining || r.Draining
			continue
		}
		first[r.ID] = len(out)
		out = append(out, r)
	}
	return out
}

// probeNode times node p.probes times, one probe after the other (so
// that after the first they reuse one connection and measure round trips,
// not TCP handshakes).
func (p *prober) probeNode(ctx context.Context, n edgeNode) probeResult {
	r := probeResult{URL: n.URL, ID: n.Node, Region: n.Region, Conns: n.Conns, Draining: n.Draining}
	for range p.probes {
		rtt, info, err := p.ping(ctx, n.URL)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			continue
		}
		r.RTTs = append(r.RTTs, rtt)
		if info != nil {
			r.ID, r.Region, r.Conns, r.Draining = info.Node, info.Region, info.Conns, r.Draining || info.Draining
		}
	}
	return r
}

// errNotFound is a 404 answer.
var errNotFound = errors.New("404 not found")

// ping times one GET of node's /edge/ping, or of /healthz on a node that
// has no /edge/ping; info is what /edge/ping said (nil for /healthz).
func (p *prober) ping(ctx context.Context, node string) (rtt time.Duration, info *edgeNode, err error) {
	p.mu.Lock()
	path := pingPath
	if p.noPing[node] {
		path = healthzPath
	}
	p.mu.Unlock()
	start := time.Now()
	body, err := p.get(ctx, node+path)
	rtt = time.Since(start)
	if errors.Is(err, errNotFound) && path == pingPath {
		p.mu.Lock()
		p.noPing[node] = true
		p.mu.Unlock()
		return p.ping(ctx, node)
	}
	if err != nil {
		return 0, nil, err
	}
	if path == pingPath {
		info = new(edgeNode)
		if json.Unmarshal(body, info) != nil {
			info = nil // timed all the same
		}
	}
	return rtt, info, nil
}

// get returns the body of a 200 answer to GET url.
func (p *prober) get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxEdgeBody))
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("client: GET %s: %w", url, errNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("client: GET %s: %s", url, resp.Status)
	}
	return body, err
}
