package cache

import "time"

// Clock is the cache's time source. Its Now must be safe for concurrent use.
// Tests inject a clock they advance by hand instead of sleeping.
type Clock interface {
	Now() time.Time
}

// otterClock shows a Clock to otter, which uses it to expire entries. It
// never ticks: with an injected clock the periodic clean-up would run on
// real time, so expired entries are removed on later reads and writes.
type otterClock struct{ c Clock }

func (o otterClock) NowNano() int64                      { return o.c.Now().UnixNano() }
func (o otterClock) Tick(time.Duration) <-chan time.Time { return nil }
