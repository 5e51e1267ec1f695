package cache

import "time"

// Clock is the cache's time source. Its Now must be safe for concurrent use.
// Tests inject a clock they advance by hand instead of sleeping.
type Clock interface {
	Now() time.Time
}

// coarseResolution is how often the default clock reads the system time.
// Entries expire up to this much early or late; in exchange a hit reads a
// variable instead of the system clock (about 65 ns here, twice per hit).
const coarseResolution = 10 * time.Millisecond

// nanoClock is the form of a clock the cache and otter read.
type nanoClock interface {
	NowNano() int64 // Unix time in nanoseconds
}

// otterClock shows a Clock to otter, which uses it to expire entries. It
// never ticks: with an injected clock the periodic clean-up would run on
// real time, so expired entries are removed on later reads and writes.
type otterClock struct{ c Clock }

func (o otterClock) NowNano() int64                      { return o.c.Now().UnixNano() }
func (o otterClock) Tick(time.Duration) <-chan time.Time { return nil }
