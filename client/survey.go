package client

import (
	"context"
	"time"
)

// NodeProbe is one node of a cluster as Survey timed it.
type NodeProbe struct {
	// ID is the node's id; empty when it did not say (a node without
	// /edge/ping that no list names).
	ID string
	// Region is the node's region, when configured.
	Region string
	// URL is the base URL the node was timed at.
	URL string
	// RTT is the median round trip of its probes; 0 when none answered
	// (then Answered is false).
	RTT      time.Duration
	Answered bool
	// Conns is the connections the node reported.
	Conns int
	// Draining says the node takes no new connections.
	Draining bool
}

// Survey does what Dial does to choose a node, without connecting: it
// asks seeds for the cluster's nodes, times each one opts.Probes times
// within opts.ProbeTimeout, and ranks them by the rule Dial follows. It
// returns the nodes in the order a client would try them, the one it
// would choose first, then those that did not answer, then the draining
// ones; and the URL of the node it would choose ("" when none answered
// and none may be tried). Options.StateFile is read, as Dial reads it, to
// prefer the node remembered when no other is clearly nearer.
func Survey(ctx context.Context, seeds []string, opts Options) (nodes []NodeProbe, choice string, err error) {
	opts = opts.withDefaults()
	bases, err := seedBases(seeds)
	if err != nil {
		return nil, "", err
	}
	transport := newTransport(opts)
	defer transport.CloseIdleConnections()
	probeCtx, cancel := context.WithTimeout(ctx, opts.ProbeTimeout)
	defer cancel()
	found := newProber(bases, opts, transport).survey(probeCtx)
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	ranked := rank(found, opts.margins())
	if len(ranked) > 0 {
		if _, ok := median(ranked[0].RTTs); ok {
			choice = choose(ranked, loadNode(opts.StateFile), opts.margins())
		}
	}
	byURL := make(map[string]probeResult, len(found))
	for _, r := range found {
		byURL[r.URL] = r
	}
	for _, u := range order(ranked, choice) {
		nodes = append(nodes, nodeProbe(byURL[u]))
	}
	for _, r := range found {
		if r.Draining {
			nodes = append(nodes, nodeProbe(r))
		}
	}
	return nodes, choice, nil
}

func nodeProbe(r probeResult) NodeProbe {
	med, ok := median(r.RTTs)
	return NodeProbe{ID: r.ID, Region: r.Region, URL: r.URL, RTT: med, Answered: ok, Conns: r.Conns, Draining: r.Draining}
}
