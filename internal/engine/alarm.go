package engine

import "time"

// AlarmHandler is a Handler that sets alarms (Conn.SetAlarm): a deadline
// of its own per connection, such as when a client's credentials expire,
// kept without a timer or a goroutine.
type AlarmHandler interface {
	Handler
	// OnAlarm is called once the time given to SetAlarm has come, on the
	// goroutine that calls the Handler's other methods (the event loop,
	// under epoll), so never at the same time as OnMessage; not once the
	// connection is closing, and never after OnClose. Like them it must
	// not block. The alarm is cleared before OnAlarm runs: it may set the
	// next one.
	OnAlarm(c *Conn)
}

// SetAlarm asks for the Handler's OnAlarm at t; the zero t clears the
// alarm. A connection has one alarm: a later SetAlarm replaces it. It is
// safe for concurrent use, from any goroutine. A Handler that is not an
// AlarmHandler is not called.
//
// The alarm rides on the connection's timeouts: the epoll engine applies
// it at its loop's sweep, so OnAlarm comes up to one sweep period late
// (a quarter of the shortest of PingInterval, CloseTimeout and
// WriteTimeout, at most 1 s); the goroutine engine wakes its reader at t
// (its read deadline), or at the latest by its next keep-alive check
// while it is not reading for backpressure. It costs no timer: a
// connection that sets one holds a few words more (connMore).
func (c *Conn) SetAlarm(t time.Time) {
	e := c.engine()
	var at int64
	if !t.IsZero() {
		at = max(int64(t.Sub(e.epoch)), 1) // 0 means none
	}
	c.mu.Lock()
	if at != 0 || c.more != nil {
		c.moreLocked().alarm = at
	}
	c.tr.alarmSetLocked()
	c.mu.Unlock()
}

// ringAlarm calls OnAlarm when the alarm is due at now (engine clock)
// and the connection is not closing. Only the reader (the read goroutine
// or the epoll loop) calls it, from keepAlive.
func (c *Conn) ringAlarm(now int64) {
	c.mu.Lock()
	at := c.alarmLocked()
	due := at != 0 && now >= at && c.state&(stCloseSent|stAborted) == 0
	if due {
		c.more.alarm = 0
	}
	c.mu.Unlock()
	if !due {
		return
	}
	if a, ok := c.h.(AlarmHandler); ok {
		a.OnAlarm(c)
	}
}
