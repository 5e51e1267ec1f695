package client

import (
	"strconv"
	"time"
)

// State is the state of a Client's connection.
type State uint8

const (
	// StateConnected: a connection to Node is up (after Dial, after a
	// reconnection, or on a move to a nearer node, which has no
	// StateDisconnected before it) and every subscription is being
	// restored on it.
	StateConnected State = iota + 1
	// StateDisconnected: the connection to Node ended, for Err.
	StateDisconnected
	// StateReconnecting: attempt number Attempt (from 1) to reach Node
	// begins once Delay has passed.
	StateReconnecting
	// StateClosed: Close was called; there are no more events.
	StateClosed
)

// String returns "connected", "disconnected", "reconnecting", "closed"
// or "State(N)".
func (s State) String() string {
	switch s {
	case StateConnected:
		return "connected"
	case StateDisconnected:
		return "disconnected"
	case StateReconnecting:
		return "reconnecting"
	case StateClosed:
		return "closed"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// StateEvent is a change of a Client's connection state, given to
// Options.OnState.
type StateEvent struct {
	State   State
	Node    string        // the node's base URL; empty for StateClosed
	Err     error         // for StateDisconnected: why the connection ended; for StateReconnecting: why the previous attempt failed (nil for the first), e.g. a *ws.HandshakeError for a node that refused the token (401)
	Attempt int           // for StateReconnecting: 1 for the first attempt after a loss
	Delay   time.Duration // for StateReconnecting: the backoff waited before it
}
