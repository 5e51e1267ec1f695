// Package errcode is the catalog of the error codes of the /ws wire
// contract: the "code" of an error reply,
//
//	{"id":1,"error":{"code":"not_found","message":"no method \"x\""}}
//
// Clients branch on the code; the message next to it is for people. The
// root package re-exports the codes (wsgate.CodeBadRequest …) and the
// other packages that produce error replies (internal/backend,
// internal/envelope) use them from here, so each code is defined and
// documented once.
package errcode

// Code is the machine-readable code of an error reply. The eight
// constants below are the wire contract; an embedder may send other
// codes of its own.
type Code string

// The error codes of the wire contract, as they appear on the wire.
const (
	// BadRequest: the request is malformed or its arguments are wrong.
	// Every message the envelope parser rejects gets it, and so does a
	// backend's 400, 422 or other 4xx without a code of its own below.
	BadRequest Code = "bad_request"
	// NotFound: no such method (a backend's 404).
	NotFound Code = "not_found"
	// Forbidden: not allowed for this connection (a backend's 401, 403;
	// a CanPublish refusal).
	Forbidden Code = "forbidden"
	// TooLarge: a payload is over a configured size limit (a backend's
	// 413).
	TooLarge Code = "too_large"
	// RateLimited: too many requests, such as more calls running on one
	// connection than Config.MaxCallsPerConn; try again later (a
	// backend's 429).
	RateLimited Code = "rate_limited"
	// Unavailable: the backend or the broker is down, overloaded or gave
	// an unusable reply, or the server is shutting down (a backend's 5xx).
	Unavailable Code = "unavailable"
	// Timeout: the call did not finish within its deadline.
	Timeout Code = "timeout"
	// Internal: a bug or an unexpected failure on the server; the details
	// are logged, not sent.
	Internal Code = "internal"
)
