package wsgate

import "time"

// messageRate limits one connection's messages: perSecond a second, with
// bursts of up to perSecond at once, as a token bucket of perSecond
// tokens refilled at perSecond a second would. It keeps the bucket as one
// number (the generic cell rate algorithm): the moment at which the
// bucket would be full again, on the server's clock. The zero value is a
// full bucket.
//
// Not safe for concurrent use: a session calls allow from OnMessage,
// which the engine calls one at a time.
type messageRate struct {
	full time.Duration // on Server.clock; at or before now: the bucket is full
}

// allow reports whether a message arriving at now is within perSecond
// (> 0), and takes its token when it is.
func (r *messageRate) allow(now time.Duration, perSecond int) bool {
	interval := time.Second / time.Duration(perSecond)
	full := max(r.full, now) + interval
	if full-now > time.Duration(perSecond)*interval {
		return false
	}
	r.full = full
	return true
}
