package wsflate

import "errors"

// Errors returned by this package. Callers match them with errors.Is; the
// returned error may wrap one of them with detail for logs.
var (
	// ErrTooLarge means a message inflates to more than the limit passed
	// to Inflate. Close the connection with 1009 (message too big).
	ErrTooLarge = errors.New("wsflate: inflated message too large")
	// ErrCorrupt means compressed data is not a valid DEFLATE stream.
	// Close the connection with 1007 (invalid payload data), as RFC 7692
	// §8 asks the receiver to fail the connection.
	ErrCorrupt = errors.New("wsflate: corrupt compressed data")
	// ErrSyntax means a Sec-WebSocket-Extensions value does not follow
	// the grammar of RFC 6455 §9.1.
	ErrSyntax = errors.New("wsflate: malformed extension header")
	// ErrBadResponse means a server's permessage-deflate response breaks
	// RFC 7692 §7.1 or does not answer ClientOffer; the client must fail
	// the connection.
	ErrBadResponse = errors.New("wsflate: invalid permessage-deflate response")
	// ErrBadOptions means Options hold a value out of range.
	ErrBadOptions = errors.New("wsflate: invalid options")
)
