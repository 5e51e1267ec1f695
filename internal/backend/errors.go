package backend

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wsgate/wsgate/internal/errcode"
)

// MaxMessageLen is the longest error message, in bytes, that a Client
// passes on from a backend's error body; longer ones are cut at a UTF-8
// boundary and end with "…".
const MaxMessageLen = 256

// Error is a failed call: the wire code, a message meant for the client and,
// when the backend answered, its HTTP status. Unwrap returns the underlying
// transport or context error, if any, so errors.Is(err,
// context.DeadlineExceeded) works on a timeout.
type Error struct {
	Code    errcode.Code
	Message string // for the client: the backend's own message when it gave one, else a generic one
	Status  int    // the backend's HTTP status; 0 when it did not answer
	err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("backend: ")
	b.WriteString(string(e.Code))
	if e.Status != 0 {
		b.WriteString(" (HTTP ")
		b.WriteString(strconv.Itoa(e.Status))
		b.WriteByte(')')
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	if e.err != nil {
		b.WriteString(": ")
		b.WriteString(e.err.Error())
	}
	return b.String()
}

// Unwrap returns the transport or context error behind e, or nil.
func (e *Error) Unwrap() error { return e.err }

// CodeOf returns the Code of an *Error in err's chain, and false when
// there is none.
func CodeOf(err error) (errcode.Code, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Code, true
	}
	return "", false
}

// statusCode maps a non-success HTTP status to a wire code.
func statusCode(status int) errcode.Code {
	switch {
	case status == http.StatusNotFound:
		return errcode.NotFound
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return errcode.Forbidden
	case status == http.StatusRequestEntityTooLarge:
		return errcode.TooLarge
	case status == http.StatusTooManyRequests:
		return errcode.RateLimited
	case status >= 400 && status < 500:
		return errcode.BadRequest // 400, 422 and the rest of 4xx
	}
	return errcode.Unavailable // 5xx, and the 1xx/3xx a backend should never answer
}

// statusError builds the error for a non-success reply whose (bounded)
// body is body.
func statusError(status int, body []byte) *Error {
	msg := errorMessage(body)
	if msg == "" {
		msg = strings.ToLower(http.StatusText(status))
		if msg == "" {
			msg = "status " + strconv.Itoa(status)
		}
		msg = "backend: " + msg
	}
	return &Error{Code: statusCode(status), Message: msg, Status: status}
}

// errorMessage returns the message of an error body shaped
// {"error":{"message":"…"}}, {"error":"…"} or {"message":"…"}, cut to
// MaxMessageLen and made valid UTF-8; "" when the body has none.
func errorMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message *string         `json:"message"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	var msg string
	if len(v.Error) > 0 {
		var inner struct {
			Message *string `json:"message"`
		}
		if json.Unmarshal(v.Error, &inner) == nil && inner.Message != nil {
			msg = *inner.Message
		} else {
			var s string
			if json.Unmarshal(v.Error, &s) == nil {
				msg = s
			}
		}
	}
	if msg == "" && v.Message != nil {
		msg = *v.Message
	}
	return bound(strings.TrimSpace(msg))
}

// bound makes s valid UTF-8 and at most MaxMessageLen bytes long.
func bound(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= MaxMessageLen {
		return s
	}
	const ellipsis = "…"
	cut := MaxMessageLen - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
