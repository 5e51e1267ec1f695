package client

import "time"

// backoff returns how long to wait before reconnection attempt n (0 for
// the first after a failure): lo doubled n times, at most hi, with equal
// jitter: half of it fixed and half scaled by r, a random number in
// [0, 1). The jitter spreads the clients a failed node drops, so they do
// not all return in the same instant.
func backoff(n int, lo, hi time.Duration, r float64) time.Duration {
	d := lo
	for i := 0; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + time.Duration(r*float64(d/2))
}

// stableAfter is how long a connection must stay up for the attempt
// count to start over. A network that drops every few seconds still
// gives connections that long, so its clients keep short waits; a node
// that drops its clients on connect never does, so they keep backing off.
const stableAfter = 2 * time.Second

// stable reports whether a connection that lived this long starts the
// attempt count over: it stayed up stableAfter, or max when max is less.
func stable(lived, max time.Duration) bool {
	return lived >= min(stableAfter, max)
}
