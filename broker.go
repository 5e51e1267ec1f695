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

// Broker carries publications between the nodes of a cluster and numbers
// them. Implementations are safe for concurrent use.
type Broker interface {
	// Publish gives data the channel's next Seq and delivers it to the
	// channel's subscribers on every node.
	Publish(ctx context.Context, channel string, data json.RawMessage) (Publication, error)
	// Subscribe calls deliver for each publication on channel, in Seq
	// order, until cancel is called. deliver must not block.
	Subscribe(channel string, deliver func(Publication)) (cancel func(), err error)
	// History returns the channel's position and, when since is not nil,
	// the retained publications after it. It must not wait for deliver
	// callbacks to return (it is called while deliveries are held back).
	History(ctx context.Context, channel string, since *Position) (History, error)
	// Close releases the broker's resources.
	Close() error
}
