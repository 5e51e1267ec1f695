package ws

import (
	"errors"
	"strconv"
)

// ProtocolError is a violation of RFC 6455 by the peer. Code is the close
// code to send before closing the connection: StatusProtocolError (1002),
// StatusInvalidPayload (1007) or StatusMessageTooBig (1009).
type ProtocolError struct {
	Code   StatusCode
	Reason string // what was wrong, in lowercase, for logs and the Close frame
}

// Error returns "ws: protocol error (1002): reason".
func (e *ProtocolError) Error() string {
	return "ws: protocol error (" + strconv.Itoa(int(e.Code)) + "): " + e.Reason
}

// CloseError is a Close frame received from the peer: its code
// (StatusNoStatusRcvd when the frame had no body) and reason.
type CloseError struct {
	Code   StatusCode
	Reason string
}

// Error returns `ws: peer closed: 1000 "bye"`.
func (e *CloseError) Error() string {
	return "ws: peer closed: " + strconv.Itoa(int(e.Code)) + " " + strconv.Quote(e.Reason)
}

// ErrBadHandshake matches every *HandshakeError with errors.Is: the
// opening handshake was rejected, by this side or by the peer.
var ErrBadHandshake = errors.New("ws: bad handshake")

// HandshakeError is a rejected opening handshake. On the server it is the
// HTTP status to answer with and why; on the client it is the status the
// server answered with (101 when the response was a 101 with wrong
// headers) and what was wrong.
type HandshakeError struct {
	Status int    // HTTP status code
	Reason string // short, safe to send to the client
	Err    error  // the underlying cause, if any; not sent to the client
}

// Error returns "ws: handshake: reason", followed by ": cause" when Err is
// set.
func (e *HandshakeError) Error() string {
	if e.Err != nil {
		return "ws: handshake: " + e.Reason + ": " + e.Err.Error()
	}
	return "ws: handshake: " + e.Reason
}

// Unwrap returns ErrBadHandshake and Err, so errors.Is(err,
// ErrBadHandshake) holds for every *HandshakeError and the cause can be
// matched too.
func (e *HandshakeError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrBadHandshake, e.Err}
	}
	return []error{ErrBadHandshake}
}
