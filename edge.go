package wsgate

import (
	"fmt"
	"math"

	"github.com/wsgate/wsgate/internal/edge"
)

// NodeBus is what a Broker implements when it can also carry the
// heartbeats of the cluster's node registry (the NATS broker does): each
// node announces itself on it every 2 seconds, and every node lists the
// live ones in Server.Nodes and GET /edge/nodes. A Broker that is not a
// NodeBus (MemoryBroker) makes every Server a single node that lists
// itself alone. Implementations are safe for concurrent use.
type NodeBus interface {
	// AnnounceNode sends data, one heartbeat of at most 2 KiB, to every
	// node that watches. It may wait on a network; the server calls it
	// from a goroutine of its own and during Shutdown and Close, never
	// from an event loop. It must not keep data after it returns.
	AnnounceNode(data []byte) error
	// WatchNodes calls deliver with every heartbeat announced by any
	// node (this one's own may come back or not) until cancel is called.
	// Heartbeats of one node must arrive in the order it announced them.
	// deliver does not block; data is valid until it returns. cancel may
	// be called more than once.
	WatchNodes(deliver func(data []byte)) (cancel func(), err error)
}

// NodeInfo is one node of the cluster, as Server.Nodes returns it and GET
// /edge/nodes lists it:
//
//	{"node":"web1-3f9a2c","region":"eu-west","url":"https://eu1.example.com","conns":42,"load":0.002,"draining":false}
type NodeInfo struct {
	// ID is the node's Config.NodeID.
	ID string `json:"node"`
	// Region is the node's Config.Region; empty when not set.
	Region string `json:"region"`
	// URL is the node's Config.PublicURL; empty when unknown, and then a
	// client uses the address it reached the node at.
	URL string `json:"url"`
	// Conns is the WebSocket connections the node holds, on /ws and
	// /echo together.
	Conns int `json:"conns"`
	// Load is Conns divided by the node's Config.MaxConns, 0 to 1,
	// rounded to 0.001; 0 for a node without a cap.
	Load float64 `json:"load"`
	// Draining is true while the node is shutting down and takes no new
	// connections.
	Draining bool `json:"draining"`
}

// Nodes returns the live nodes of the cluster, this one included, sorted
// by region, then id. This node's figures are current; a peer's are
// those of its last heartbeat (sent every 2 seconds). A peer is listed
// from its first heartbeat until it shuts down (it says so as Shutdown or
// Close begins) or, when it crashed, until 6 seconds pass without one.
// Without a Broker that is a NodeBus, the list is this node alone.
func (s *Server) Nodes() []NodeInfo {
	nodes := s.nodes.Nodes()
	out := make([]NodeInfo, len(nodes))
	for i, n := range nodes {
		out[i] = NodeInfo(n)
	}
	return out
}

// Node returns this node as Nodes lists it, with its current figures.
func (s *Server) Node() NodeInfo { return NodeInfo(s.nodes.Self()) }

// checkNode validates the node's identity in cfg, before New starts
// anything.
func checkNode(cfg Config) error {
	for _, err := range []error{edge.CheckID(cfg.NodeID), edge.CheckRegion(cfg.Region), edge.CheckURL(cfg.PublicURL)} {
		if err != nil {
			return fmt.Errorf("wsgate: %w", err)
		}
	}
	return nil
}

// startNodes starts the node registry, on the Broker when it is a
// NodeBus.
func (s *Server) startNodes() error {
	var bus edge.Bus
	if nb, ok := s.broker.(NodeBus); ok {
		bus = nodeBus{nb}
	}
	r, err := edge.New(edge.Options{
		Self:   edge.Node{ID: s.cfg.NodeID, Region: s.cfg.Region, URL: s.cfg.PublicURL},
		Status: s.nodeStatus,
		Bus:    bus,
		Logger: s.log,
	})
	if err != nil {
		return fmt.Errorf("wsgate: %w", err)
	}
	s.nodes = r
	return nil
}

// nodeStatus is this node's line in its heartbeats: cheap enough for
// every /edge/ping.
func (s *Server) nodeStatus() edge.Status {
	n := s.Conns()
	st := edge.Status{Conns: n, Draining: s.stopping.Load()}
	if s.cfg.MaxConns > 0 {
		st.Load = math.Round(float64(n)/float64(s.cfg.MaxConns)*1000) / 1000
	}
	return st
}

// nodeBus is a NodeBus seen as the registry's Bus.
type nodeBus struct{ nb NodeBus }

func (b nodeBus) Announce(data []byte) error { return b.nb.AnnounceNode(data) }

func (b nodeBus) Watch(deliver func([]byte)) (func(), error) { return b.nb.WatchNodes(deliver) }
