package wsgate

import (
	"context"
	"encoding/json"
)

// Publication is one message on a channel. Seq numbers a channel's
// publications from 1 without gaps within one Epoch; a new epoch (a
// restarted in-memory broker, say) starts again, and clients that resume
// from an older epoch are told they missed an unknown number.
type Publication struct {
	Channel string
	Seq     uint64
	Epoch   string
	Data    json.RawMessage
}

// Position is a place in a channel's stream: the last Seq seen, in Epoch.
type Position struct {
	Seq   uint64 `json:"seq"`
	Epoch string `json:"epoch"`
}

// History is what a Broker knows of a channel for a subscriber that
// starts now or resumes.
type History struct {
	// Position is the channel's latest publication (Seq 0 when none).
	Position Position
	// Missed are the retained publications after the position asked
	// about, oldest first.
	Missed []Publication
	// Recovered reports that Missed holds every publication after the
	// position asked about; false when the epoch changed or some were no
	// longer retained.
	Recovered bool
}

// Broker carries publications between the nodes of a cluster, numbers
// them and keeps each channel's recent history. Implementations are safe
// for concurrent use.
//
// Where the server calls it: Publish, History and Subscribe may wait on a
// network (a cluster's round trip, a broker that is down), so the server
// never calls them on an event loop or with a lock held. A client's pub
// and sub run on its connection's lane, a goroutine of its own that
// handles that connection's sub, unsub and pub requests in order, with a
// context bounded by Config.CallTimeout; Server.Publish runs on its
// caller's goroutine. The cancel function Subscribe returns, and the
// deliver callback, are the exceptions: they are called from event loops
// and under the hub's locks, and must not block.
//
// A Broker that can be cut off from its cluster may also implement
// ReadyBroker; the server's /readyz then reports its state.
type Broker interface {
	// Publish gives data the channel's next Seq, records it in the
	// channel's history and delivers it to the channel's subscribers on
	// every node. It returns once the publication is numbered and
	// recorded, or ctx ends.
	Publish(ctx context.Context, channel string, data json.RawMessage) (Publication, error)
	// Subscribe calls deliver for each publication on channel, in Seq
	// order and never concurrently with itself, until cancel is called.
	// It may block until the subscription is in place, and from its
	// return on every publication recorded later must be delivered: the
	// server reads History after Subscribe to resume a client without a
	// gap. A node subscribes once per channel, while the channel has
	// local subscribers. deliver must not block. cancel must return at
	// once (it may finish in the background) and may be called more than
	// once.
	Subscribe(channel string, deliver func(Publication)) (cancel func(), err error)
	// History returns the channel's position and, when since is not nil,
	// the retained publications after it. It must not wait for deliver
	// callbacks to return.
	History(ctx context.Context, channel string, since *Position) (History, error)
	// Close releases the broker's resources.
	Close() error
}
