package client

import (
	"encoding/json"
	"strconv"
)

// Position is where a channel's stream of publications stands: Seq
// numbers publications from 1 with no gaps within one Epoch; a new Epoch
// means the server lost the channel's history and numbering restarted.
type Position struct {
	Seq   uint64 `json:"seq"`
	Epoch string `json:"epoch"`
}

// Kind is what a Message to a subscription's handler says.
type Kind uint8

const (
	// KindPublication is a publication on the channel.
	KindPublication Kind = iota + 1
	// KindGap says that publications may have been lost: after a
	// reconnection the server could not replay every publication since
	// the last one delivered (it no longer held them, or the channel's
	// epoch changed). Publications continue after it with the ones the
	// server still had, then live ones.
	KindGap
	// KindEnded says the subscription is over: the server refused to
	// restore it after a reconnection (Err says why). It is the last
	// Message of the subscription.
	KindEnded
)

// String returns "publication", "gap", "ended" or "Kind(N)".
func (k Kind) String() string {
	switch k {
	case KindPublication:
		return "publication"
	case KindGap:
		return "gap"
	case KindEnded:
		return "ended"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Message is what a subscription's handler receives.
type Message struct {
	Kind    Kind
	Channel string
	// Pos is the publication's position for KindPublication. For
	// KindGap it is the channel's position when the subscription was
	// restored.
	Pos Position
	// Data is the publication's JSON for KindPublication. The handler
	// may keep it.
	Data json.RawMessage
	// Last is, for KindGap, the position of the last publication
	// delivered before the gap (zero when none was).
	Last Position
	// Err is why the subscription ended, for KindEnded.
	Err error
}

// Handler receives the Messages of one subscription. The handlers and
// OnState of one Client are called one at a time, in order, on a
// goroutine the Client owns; they may call the Client's methods, except
// Close, which waits for that goroutine. A slow handler delays the
// others but not the connection: Messages wait in memory until it
// returns.
type Handler func(Message)
