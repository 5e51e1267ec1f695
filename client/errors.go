package client

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned by the methods of a Client after Close.
	ErrClosed = errors.New("client: closed")
	// ErrConnectionLost is returned by a Call, Publish or Subscribe whose
	// connection ended before the answer came. A call may or may not
	// have run on the server, and a publication may or may not have been
	// made: retry only what is safe to repeat.
	ErrConnectionLost = errors.New("client: connection lost")
	// ErrNoNode is returned by Dial when no node could be reached. It
	// wraps the errors of the attempts.
	ErrNoNode = errors.New("client: no node reachable")
	// ErrSubscribed is returned by Subscribe for a channel the Client is
	// subscribed to already.
	ErrSubscribed = errors.New("client: already subscribed")
)

// Error is an error reply from the server,
// {"error":{"code":"not_found","message":"…"}}. Code is one of the wire
// contract's codes (bad_request, not_found, forbidden, too_large,
// rate_limited, unavailable, timeout, internal); branch on it with
// errors.As.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error returns "client: server error: code: message".
func (e *Error) Error() string {
	return fmt.Sprintf("client: server error: %s: %s", e.Code, e.Message)
}

// temporary reports whether the request may succeed if made again later
// (on another connection).
func (e *Error) temporary() bool {
	switch e.Code {
	case "rate_limited", "unavailable", "timeout", "internal":
		return true
	}
	return false
}
