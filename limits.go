package wsgate

import (
	"sync/atomic"

	"github.com/wsgate/wsgate/internal/engine"
)

// limit names one of the server's limits, for counting what it refused.
type limit uint8

const (
	limitMaxConns      limit = iota // Config.MaxConns: handshakes answered 503
	limitMaxConnsPerIP              // Config.MaxConnsPerIP: handshakes answered 503
	limitMessageRate                // Config.MaxMessagesPerSecond: messages answered rate_limited
	limitCallsPerConn               // Config.MaxCallsPerConn: calls answered rate_limited
	limitLane                       // the connection's lane is full: sub, unsub, pub answered rate_limited
	limitSubscriptions              // Config.MaxSubscriptionsPerConn: subs answered too_large
	limitPublishSize                // Config.MaxPublishSize: pubs answered too_large
	limitInputBudget                // Config.MaxBufferedInput: calls and pubs answered unavailable
	numLimits
)

// limitCounters count, per limit, the requests it refused. Safe for
// concurrent use; the zero value is ready.
type limitCounters [numLimits]atomic.Uint64

func (l *limitCounters) bite(which limit) { l[which].Add(1) }

// LimitStats counts what the server's limits refused, each figure from
// New on: it grows only when its limit bites.
type LimitStats struct {
	MaxConns      uint64 // handshakes answered 503 at Config.MaxConns
	MaxConnsPerIP uint64 // handshakes answered 503 at Config.MaxConnsPerIP
	MessageRate   uint64 // /ws messages answered rate_limited: over Config.MaxMessagesPerSecond
	CallsPerConn  uint64 // calls answered rate_limited: Config.MaxCallsPerConn were running on the connection
	Lane          uint64 // sub, unsub and pub requests answered rate_limited: too many waited on the connection
	Subscriptions uint64 // subs answered too_large: the connection had Config.MaxSubscriptionsPerConn
	PublishSize   uint64 // pubs answered too_large: data over Config.MaxPublishSize
	// InputBudget counts calls and pubs answered unavailable because
	// their arguments or data did not fit in Config.MaxBufferedInput.
	InputBudget uint64
	// InputPaused counts the times a connection holding a partial
	// message was not read because Config.MaxBufferedInput was spent.
	InputPaused uint64
	// QueuePaused counts the times a connection was not read because
	// more than Config.MaxQueuedBytes waited to be sent to it.
	QueuePaused uint64
	// LogLines counts log lines dropped because one message was logged
	// more often than its rate allows (see Config.Logger).
	LogLines uint64
}

func (s *Server) limitStats(e engine.Stats) LimitStats {
	l := &s.limited
	return LimitStats{
		InputBudget:   l[limitInputBudget].Load(),
		InputPaused:   e.InputPaused,
		QueuePaused:   e.QueuePaused,
		MaxConns:      l[limitMaxConns].Load(),
		MaxConnsPerIP: l[limitMaxConnsPerIP].Load(),
		MessageRate:   l[limitMessageRate].Load(),
		CallsPerConn:  l[limitCallsPerConn].Load(),
		Lane:          l[limitLane].Load(),
		Subscriptions: l[limitSubscriptions].Load(),
		PublishSize:   l[limitPublishSize].Load(),
		LogLines:      s.logs.Dropped(),
	}
}
