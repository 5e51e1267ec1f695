package wsgate

import (
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wsgate/wsgate/internal/cache"
	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// metrics are a Server's Prometheus metrics, served on /metrics. Hot paths
// only touch atomics; the registry reads them when scraped.
type metrics struct {
	registry *prometheus.Registry
	endpoint [numEndpoints]endpointCounters
	closed   [numCloseReasons]atomic.Uint64
	calls    *prometheus.CounterVec   // by code
	callTime *prometheus.HistogramVec // by code
	okCalls  prometheus.Counter       // calls and callTime for "ok", looked up once:
	okTime   prometheus.Observer      // most calls are answered
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

func (e endpoint) String() string { return [...]string{"ws", "echo"}[e] }

// closeReason classifies why a connection ended, for
// wsgate_connections_closed_total.
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

func (r closeReason) String() string {
	return [...]string{"peer", "server", "protocol_error", "slow_consumer", "idle", "network", "write_timeout"}[r]
}

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

func newMetrics(s *Server) *metrics {
	m := &metrics{registry: prometheus.NewRegistry()}
	m.calls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wsgate_calls_total", Help: "Calls answered, by result code (ok or an error code).",
	}, []string{"code"})
	m.callTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "wsgate_call_duration_seconds", Help: "Time from a call's request to its reply being queued.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"code"})
	m.okCalls, m.okTime = m.calls.WithLabelValues("ok"), m.callTime.WithLabelValues("ok")
	m.registry.MustRegister(m.calls, m.callTime,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for e := range numEndpoints {
		c := &m.endpoint[e]
		labels := prometheus.Labels{"endpoint": e.String()}
		m.registry.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wsgate_connections", Help: "Open WebSocket connections.", ConstLabels: labels},
				func() float64 { return float64(c.open.Load()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "wsgate_connections_opened_total", Help: "WebSocket connections opened.", ConstLabels: labels},
				func() float64 { return float64(c.opened.Load()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "wsgate_messages_received_total", Help: "WebSocket messages received.", ConstLabels: labels},
				func() float64 { return float64(c.received.Load()) }),
		)
	}
	for r := range numCloseReasons {
		n := &m.closed[r]
		m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "wsgate_connections_closed_total", Help: "WebSocket connections ended, by reason.",
			ConstLabels: prometheus.Labels{"reason": r.String()},
		}, func() float64 { return float64(n.Load()) }))
	}
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wsgate_channels", Help: "Channels with at least one subscriber on this node."},
			func() float64 { return float64(s.hub.Stats().Channels) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wsgate_subscriptions", Help: "Subscriptions on this node."},
			func() float64 { return float64(s.hub.Stats().Subscriptions) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "wsgate_publications_total", Help: "Publications fanned out on this node."},
			func() float64 { return float64(s.hub.Stats().Publications) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "wsgate_deliveries_total", Help: "Publication frames queued to subscribers on this node (each shares one encoded frame)."},
			func() float64 { return float64(s.hub.Stats().Deliveries) }),
	)
	if s.cache != nil {
		m.registerCache(s.cache)
	}
	m.registerCompression(s.codec, s.engine)
	return m
}

// registerCompression exports permessage-deflate's counters: the Codec's
// work (one compression serves a whole fan-out), the compressor contexts
// held (context takeover) and the engine's frames sent compressed or
// plain. Without a codec only the frame counts are exported.
func (m *metrics) registerCompression(codec *wsflate.Codec, e *engine.Engine) {
	frames := func(deflated bool) prometheus.Collector {
		label := "plain"
		if deflated {
			label = "deflate"
		}
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "wsgate_frames_sent_total", Help: "Text and binary frames sent, by encoding (deflate: RSV1 set; plain).",
			ConstLabels: prometheus.Labels{"encoding": label},
		}, func() float64 {
			st := e.Stats()
			if deflated {
				return float64(st.FramesDeflated)
			}
			return float64(st.FramesPlain)
		})
	}
	m.registry.MustRegister(frames(true), frames(false))
	if codec == nil {
		return
	}
	counter := func(name, help string, f func(wsflate.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(f(codec.Stats())) })
	}
	m.registry.MustRegister(
		counter("wsgate_compressions_total", "Messages run through a compressor (at least the threshold long), used or not.", func(s wsflate.Stats) uint64 { return s.Compressions }),
		counter("wsgate_compressions_used_total", "Compressions that came out smaller than their input and were sent.", func(s wsflate.Stats) uint64 { return s.Compressed }),
		counter("wsgate_compression_bytes_in_total", "Bytes of messages before compression (used compressions only).", func(s wsflate.Stats) uint64 { return s.BytesIn }),
		counter("wsgate_compression_bytes_out_total", "Bytes of the same messages after compression.", func(s wsflate.Stats) uint64 { return s.BytesOut }),
		counter("wsgate_inflations_total", "Compressed messages from clients that were decompressed.", func(s wsflate.Stats) uint64 { return s.Inflations }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wsgate_compression_contexts",
			Help: "Connections holding a compressor context (context takeover), from the handshake until they close; at most the configured cap.",
		}, func() float64 { return float64(codec.Stats().Contexts) }),
	)
}

// registerCache exports the response cache's counters.
func (m *metrics) registerCache(c *cache.Cache) {
	counter := func(name, help string, f func(cache.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(f(c.Stats())) })
	}
	m.registry.MustRegister(
		counter("wsgate_cache_hits_total", "Calls answered by a fresh cached result.", func(s cache.Stats) uint64 { return s.Hits }),
		counter("wsgate_cache_stale_hits_total", "Calls answered by a stale result while one refresh ran (stale-while-revalidate).", func(s cache.Stats) uint64 { return s.StaleHits }),
		counter("wsgate_cache_misses_total", "Calls that started a backend call.", func(s cache.Stats) uint64 { return s.Misses }),
		counter("wsgate_cache_coalesced_total", "Calls that waited for an identical call already running.", func(s cache.Stats) uint64 { return s.Coalesced }),
		counter("wsgate_cache_refreshes_total", "Background refreshes of stale results.", func(s cache.Stats) uint64 { return s.Refreshes }),
		counter("wsgate_cache_load_errors_total", "Backend calls made for the cache that failed.", func(s cache.Stats) uint64 { return s.LoadErrors }),
		counter("wsgate_cache_evictions_total", "Results evicted to stay within the cache size.", func(s cache.Stats) uint64 { return s.Evictions }),
		counter("wsgate_cache_invalidated_total", "Results dropped by invalidation.", func(s cache.Stats) uint64 { return s.Invalidated }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wsgate_cache_bytes", Help: "Bytes held by the response cache."},
			func() float64 { return float64(c.Stats().Bytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wsgate_cache_entries", Help: "Results held by the response cache."},
			func() float64 { return float64(c.Stats().Entries) }),
	)
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// observeCall records one answered call.
func (m *metrics) observeCall(code ErrorCode, start time.Time) {
	if code == "" {
		m.okCalls.Inc()
		m.okTime.Observe(time.Since(start).Seconds())
		return
	}
	label := string(code)
	m.calls.WithLabelValues(label).Inc()
	m.callTime.WithLabelValues(label).Observe(time.Since(start).Seconds())
}

// wrap counts the events of one connection on endpoint e and passes them
// on to h.
func (m *metrics) wrap(e endpoint, h engine.Handler) engine.Handler {
	return &countedHandler{Handler: h, m: m, c: &m.endpoint[e]}
}

type countedHandler struct {
	engine.Handler
	m *metrics
	c *endpointCounters
}

func (h *countedHandler) OnOpen(c *engine.Conn) {
	h.c.open.Add(1)
	h.c.opened.Add(1)
	h.Handler.OnOpen(c)
}

func (h *countedHandler) OnMessage(c *engine.Conn, op ws.Opcode, payload []byte) {
	h.c.received.Add(1)
	h.Handler.OnMessage(c, op, payload)
}

func (h *countedHandler) OnClose(c *engine.Conn, err error) {
	h.c.open.Add(-1)
	h.m.closed[classifyClose(err)].Add(1)
	h.Handler.OnClose(c, err)
}
