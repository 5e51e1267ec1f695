package wsgate

import (
	"errors"
	"fmt"

	"github.com/wsgate/wsgate/internal/errcode"
)

// ErrorCode is the machine-readable code of an error reply on /ws
// ({"id":1,"error":{"code":"not_found","message":"…"}}). Clients branch
// on it; the message next to it is for people.
type ErrorCode = errcode.Code

// The error codes of the wire contract, with their wire form. The
// catalog they come from, internal/errcode, documents when the server
// itself sends each.
const (
	CodeBadRequest  = errcode.BadRequest  // "bad_request": the request is malformed or its arguments are wrong
	CodeNotFound    = errcode.NotFound    // "not_found": no such method
	CodeForbidden   = errcode.Forbidden   // "forbidden": not allowed for this connection
	CodeTooLarge    = errcode.TooLarge    // "too_large": a payload is over a configured size limit
	CodeRateLimited = errcode.RateLimited // "rate_limited": too many requests; try again later
	CodeUnavailable = errcode.Unavailable // "unavailable": the backend is down or overloaded
	CodeTimeout     = errcode.Timeout     // "timeout": the backend did not answer in time
	CodeInternal    = errcode.Internal    // "internal": a bug or an unexpected failure on the server
)

// Error is an error with a wire code. A CallFunc returns one to choose the
// code the client sees; any other error is reported as CodeInternal (or
// CodeTimeout when it wraps context.DeadlineExceeded) with a generic message.
type Error struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("wsgate: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrServerClosed is returned by Publish and Shutdown after the Server has
// been shut down or closed.
var ErrServerClosed = errors.New("wsgate: server closed")
