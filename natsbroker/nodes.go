package natsbroker

import (
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/wsgate/wsgate"
)

var _ wsgate.NodeBus = (*Broker)(nil)

// nodesSubject is where the nodes of a cluster announce themselves:
// PREFIX.nodes, beside the channels' PREFIX.ch.> and PREFIX.live.>.
func (b *Broker) nodesSubject() string { return b.opts.SubjectPrefix + ".nodes" }

// AnnounceNode publishes one heartbeat of the node registry
// (wsgate.NodeBus) with core NATS: at most once, in order from this
// connection; a lost one is covered by the next, every 2 seconds. It
// returns once the heartbeat is buffered for the server.
func (b *Broker) AnnounceNode(data []byte) error {
	if err := b.conn().Publish(b.nodesSubject(), data); err != nil {
		return fmt.Errorf("natsbroker: announce node: %w", err)
	}
	return nil
}

// WatchNodes calls deliver with every heartbeat on the cluster's nodes
// subject, this node's own included, one at a time on the subscription's
// goroutine, until cancel (wsgate.NodeBus).
func (b *Broker) WatchNodes(deliver func(data []byte)) (cancel func(), err error) {
	sub, err := b.conn().Subscribe(b.nodesSubject(), func(m *nats.Msg) { deliver(m.Data) })
	if err != nil {
		return nil, fmt.Errorf("natsbroker: watch nodes: %w", err)
	}
	return func() { sub.Unsubscribe() }, nil // a second call's ErrBadSubscription means done already
}
