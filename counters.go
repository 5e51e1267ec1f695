package wsgate

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/internal/errcode"
	"github.com/wsgate/wsgate/ws"
)

// metrics are a Server's own counters, read by Server.Stats. Hot paths
// touch atomics only. The zero value is ready to use.
type metrics struct {
	endpoint [numEndpoints]endpointCounters
	closed   [numCloseReasons]atomic.Uint64
	calls    [len(knownCodes)]latency // by result: ok, then the codes of the wire contract
	other    sync.Map                 // ErrorCode → *latency, for codes of an embedder's own
}

// endpointCounters count one WebSocket endpoint's traffic.
type endpointCounters struct {
	open     atomic.Int64
	opened   atomic.Uint64
	received atomic.Uint64
}

type endpoint uint8

const (
	endpointWS endpoint = iota
	endpointEcho
	numEndpoints
)

// closeReason classifies why a connection ended.
type closeReason uint8

const (
	closedByPeer closeReason = iota
	closedByServer
	closedProtocolError
	closedSlowConsumer
	closedIdle
	closedNetwork
	closedWriteTimeout
	numCloseReasons
)

func classifyClose(err error) closeReason {
	var ce *ws.CloseError
	var pe *ws.ProtocolError
	switch {
	case errors.As(err, &ce):
		return closedByPeer
	case errors.As(err, &pe):
		return closedProtocolError
	case errors.Is(err, engine.ErrSlowConsumer):
		return closedSlowConsumer
	case errors.Is(err, engine.ErrIdleTimeout):
		return closedIdle
	case errors.Is(err, engine.ErrWriteTimeout):
		return closedWriteTimeout
	case errors.Is(err, engine.ErrClosed), errors.Is(err, engine.ErrEngineClosed):
		return closedByServer
	}
	return closedNetwork
}

// knownCodes are the call results counted without a map lookup: "" (ok)
// first, then every code of the wire contract.
var knownCodes = [...]ErrorCode{"", errcode.BadRequest, errcode.NotFound, errcode.Forbidden,
	errcode.TooLarge, errcode.RateLimited, errcode.Unavailable, errcode.Timeout, errcode.Internal}

// latencyBounds are the upper bounds of the call latency histogram's
// buckets; a call slower than the last counts in latency.count alone.
var latencyBounds = [...]time.Duration{
	500 * time.Microsecond, time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2500 * time.Millisecond,
	5 * time.Second, 10 * time.Second,
}

// latency counts the calls answered with one result code and how long
// they took. observe adds to count before the bucket, and snapshot reads
// the buckets before count, so a snapshot never has more calls in a
// bucket than in all.
type latency struct {
	count   atomic.Uint64
	sum     atomic.Int64                      // nanoseconds
	buckets [len(latencyBounds)]atomic.Uint64 // not cumulative: bucket i counts calls in (bound i-1, bound i]
}

func (l *latency) observe(d time.Duration) {
	l.count.Add(1)
	l.sum.Add(int64(d))
	for i, b := range latencyBounds {
		if d <= b {
			l.buckets[i].Add(1)
			return
		}
	}
}

func (l *latency) snapshot() CallStats {
	st := CallStats{Buckets: make([]LatencyBucket, len(latencyBounds))}
	var n uint64
	for i := range l.buckets {
		n += l.buckets[i].Load()
		st.Buckets[i] = LatencyBucket{UpperBound: latencyBounds[i], Count: n}
	}
	st.Duration = time.Duration(l.sum.Load())
	st.Count = l.count.Load()
	return st
}

// countOpen counts a connection that opened.
func (c *endpointCounters) countOpen() {
	c.open.Add(1)
	c.opened.Add(1)
}

// ended counts a connection of c that ended with err and gives its place
// in gate, held under key, back.
func (m *metrics) ended(c *endpointCounters, gate *connGate, key netip.Addr, err error) {
	gate.release(key)
	c.open.Add(-1)
	m.closed[classifyClose(err)].Add(1)
}

// observeCall records one answered call: code is "" when it succeeded.
func (m *metrics) observeCall(code ErrorCode, start time.Time) {
	d := time.Since(start)
	if code == "" {
		m.calls[0].observe(d)
		return
	}
	m.latency(code).observe(d)
}

// latency returns the counters of calls answered with code.
func (m *metrics) latency(code ErrorCode) *latency {
	for i := 1; i < len(knownCodes); i++ {
		if knownCodes[i] == code {
			return &m.calls[i]
		}
	}
	if l, ok := m.other.Load(code); ok {
		return l.(*latency)
	}
	l, _ := m.other.LoadOrStore(code, new(latency))
	return l.(*latency)
}

// wrap counts the events of connections on endpoint e, passes them on to
// h and, when a connection ends, gives its place in gate (under key, see
// connGate.admit) back before h's OnClose. One wrapper does both, so a
// message costs one extra call on its way to h. Without a per-IP cap
// every key is the zero Addr, so a handler that keeps nothing per
// connection (/echo's) is wrapped once for all of them. A session counts
// its own events (session.go), with no wrapper.
func (m *metrics) wrap(e endpoint, h engine.Handler, gate *connGate, key netip.Addr) engine.Handler {
	return &countedHandler{Handler: h, m: m, c: &m.endpoint[e], gate: gate, key: key}
}

type countedHandler struct {
	engine.Handler
	m    *metrics
	c    *endpointCounters
	gate *connGate
	key  netip.Addr // the connection's key in gate
}

func (h *countedHandler) OnOpen(c *engine.Conn) {
	h.c.countOpen()
	h.Handler.OnOpen(c)
}

func (h *countedHandler) OnMessage(c *engine.Conn, op ws.Opcode, payload []byte) {
	h.c.received.Add(1)
	h.Handler.OnMessage(c, op, payload)
}

// OnAlarm passes an alarm on to a handler that sets them (a session).
func (h *countedHandler) OnAlarm(c *engine.Conn) {
	if a, ok := h.Handler.(engine.AlarmHandler); ok {
		a.OnAlarm(c)
	}
}

func (h *countedHandler) OnClose(c *engine.Conn, err error) {
	h.m.ended(h.c, h.gate, h.key, err)
	h.Handler.OnClose(c, err)
}
