package wsgate

// ReadyBroker is a Broker that can tell whether it can carry
// publications now: one that talks to a cluster over a network (NATS,
// say) and may be cut off from it. While Ready returns an error the
// Server's /readyz answers 503 with it, so a load balancer sends new
// clients to other nodes; pubs and subs meanwhile fail with the Broker's
// errors. Ready must not block: /readyz is polled.
type ReadyBroker interface {
	Broker
	Ready() error
}

// brokerReady is the Broker's Ready, or nil for a Broker that is always
// ready (the in-memory one).
func (s *Server) brokerReady() error {
	if rb, ok := s.broker.(ReadyBroker); ok {
		return rb.Ready()
	}
	return nil
}
