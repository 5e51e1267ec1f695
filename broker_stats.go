package wsgate

// BrokerStats are the figures a Broker of a cluster reports about its
// link to the other nodes, each from the Broker's start.
type BrokerStats struct {
	Connected  bool   // the link to the cluster is up now
	History    bool   // channel history is kept (false: live only)
	Published  uint64 // publications made through the Broker by this node
	Conflicts  uint64 // publishes tried again because another node numbered the channel first
	Reads      uint64 // history reads made from the cluster's store
	Coalesced  uint64 // history requests served by another request's read
	Gaps       uint64 // gaps in live deliveries filled (or skipped) from the store
	Reconnects uint64 // reconnections to the cluster
	Dropped    uint64 // live messages lost on the way, found and read back from the store
}

// StatsBroker is a Broker that reports BrokerStats: Server.Stats
// includes them (Stats.Broker), and package metrics exports them as
// wsgate_broker_*. BrokerStats must not block: it is read at each scrape.
type StatsBroker interface {
	Broker
	BrokerStats() BrokerStats
}

// brokerStats is the Broker's figures, or nil for one that reports none
// (the in-memory one).
func (s *Server) brokerStats() *BrokerStats {
	if sb, ok := s.broker.(StatsBroker); ok {
		st := sb.BrokerStats()
		return &st
	}
	return nil
}
