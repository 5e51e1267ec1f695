package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wsgate/wsgate"
)

// NewCollector returns a collector of srv's metrics. Each scrape takes one
// srv.Stats snapshot and turns it into constant metrics, so the collector
// costs the server nothing between scrapes. It is safe for concurrent
// use, like srv.
func NewCollector(srv *wsgate.Server) prometheus.Collector {
	c := &collector{
		srv:      srv,
		calls:    prometheus.NewDesc("wsgate_calls_total", "Calls answered, by result code (ok or an error code).", []string{"code"}, nil),
		callTime: prometheus.NewDesc("wsgate_call_duration_seconds", "Time from a call's request to its reply being queued.", []string{"code"}, nil),
	}
	for _, f := range families {
		var labels []string
		if f.label != "" {
			labels = []string{f.label}
		}
		c.descs = append(c.descs, prometheus.NewDesc(f.name, f.help, labels, nil))
	}
	return c
}

// Handler returns an http.Handler that serves srv's metrics, the Go
// runtime's and the process's in the Prometheus text format, from a
// registry of its own. Mount it on /metrics next to srv.Handler().
func Handler(srv *wsgate.Server) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(srv),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

type collector struct {
	srv      *wsgate.Server
	descs    []*prometheus.Desc // of families, in order
	calls    *prometheus.Desc
	callTime *prometheus.Desc
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
	ch <- c.calls
	ch <- c.callTime
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.srv.Stats()
	for i, f := range families {
		f.read(&st, func(v float64, label ...string) {
			ch <- prometheus.MustNewConstMetric(c.descs[i], f.typ, v, label...)
		})
	}
	for code, cs := range st.Calls {
		ch <- prometheus.MustNewConstMetric(c.calls, prometheus.CounterValue, float64(cs.Count), code)
		buckets := make(map[float64]uint64, len(cs.Buckets))
		for _, b := range cs.Buckets {
			buckets[b.UpperBound.Seconds()] = b.Count
		}
		ch <- prometheus.MustNewConstHistogram(c.callTime, cs.Count, cs.Duration.Seconds(), buckets, code)
	}
}

// family is one metric family but the calls' two: its name, help text,
// type and label (none when ""), and how to read its samples from a
// snapshot. read calls emit once per sample, with the label's value; it
// emits nothing for a part of the server that is disabled.
type family struct {
	name, help string
	typ        prometheus.ValueType
	label      string
	read       func(st *wsgate.Stats, emit func(v float64, label ...string))
}

const (
	counter = prometheus.CounterValue
	gauge   = prometheus.GaugeValue
)

var families = []family{
	{"wsgate_connections", "Open WebSocket connections.", gauge, "endpoint", func(st *wsgate.Stats, emit func(float64, ...string)) {
		emit(float64(st.WS.Open), "ws")
		emit(float64(st.Echo.Open), "echo")
	}},
	{"wsgate_connections_opened_total", "WebSocket connections opened.", counter, "endpoint", func(st *wsgate.Stats, emit func(float64, ...string)) {
		emit(float64(st.WS.Opened), "ws")
		emit(float64(st.Echo.Opened), "echo")
	}},
	{"wsgate_messages_received_total", "WebSocket messages received.", counter, "endpoint", func(st *wsgate.Stats, emit func(float64, ...string)) {
		emit(float64(st.WS.Received), "ws")
		emit(float64(st.Echo.Received), "echo")
	}},
	{"wsgate_connections_closed_total", "WebSocket connections ended, by reason.", counter, "reason", func(st *wsgate.Stats, emit func(float64, ...string)) {
		c := st.Closed
		emit(float64(c.Peer), "peer")
		emit(float64(c.Server), "server")
		emit(float64(c.ProtocolError), "protocol_error")
		emit(float64(c.SlowConsumer), "slow_consumer")
		emit(float64(c.Idle), "idle")
		emit(float64(c.Network), "network")
		emit(float64(c.WriteTimeout), "write_timeout")
	}},

	{"wsgate_limited_total", "Requests a limit refused, by limit: handshakes answered 503 (max_conns, max_conns_per_ip), messages and requests answered rate_limited (message_rate, calls_per_conn, lane), too_large (subscriptions, publish_size) or unavailable for the input budget (input_budget), and reads paused for the input budget (input_paused) or for a full send queue (queue_paused).", counter, "limit", func(st *wsgate.Stats, emit func(float64, ...string)) {
		l := st.Limits
		emit(float64(l.MaxConns), "max_conns")
		emit(float64(l.MaxConnsPerIP), "max_conns_per_ip")
		emit(float64(l.MessageRate), "message_rate")
		emit(float64(l.CallsPerConn), "calls_per_conn")
		emit(float64(l.Lane), "lane")
		emit(float64(l.Subscriptions), "subscriptions")
		emit(float64(l.PublishSize), "publish_size")
		emit(float64(l.InputBudget), "input_budget")
		emit(float64(l.InputPaused), "input_paused")
		emit(float64(l.QueuePaused), "queue_paused")
	}},
	{"wsgate_input_bytes", "Bytes held now of clients' input against the input budget: partial messages, running calls' arguments, queued pubs' data.", gauge, "", func(st *wsgate.Stats, emit func(float64, ...string)) {
		emit(float64(st.InputBytes))
	}},
	{"wsgate_log_lines_dropped_total", "Log lines dropped because one message was logged more often than its rate allows.", counter, "", func(st *wsgate.Stats, emit func(float64, ...string)) {
		emit(float64(st.Limits.LogLines))
	}},

	{"wsgate_channels", "Channels with at least one subscriber on this node.", gauge, "", func(st *wsgate.Stats, emit func(float64, ...string)) {
		emit(float64(st.Hub.Channels))
	}},
	{"wsgate_subscriptions", "Subscriptions on this node.", gauge, "", func(st *wsgate.Stats, emit func(float64, ...string)) {
		emit(float64(st.Hub.Subscriptions))
	}},
	{"wsgate_publications_total", "Publications fanned out on this node.", counter, "", func(st *wsgate.Stats, emit func(float64, ...string)) {
		emit(float64(st.Hub.Publications))
	}},
	{"wsgate_deliveries_total", "Publication frames queued to subscribers on this node (each shares one encoded frame).", counter, "", func(st *wsgate.Stats, emit func(float64, ...string)) {
		emit(float64(st.Hub.Deliveries))
	}},

	optional("wsgate_cache_hits_total", "Calls answered by a fresh cached result.", counter, cache, func(c wsgate.CacheStats) uint64 { return c.Hits }),
	optional("wsgate_cache_stale_hits_total", "Calls answered by a stale result while one refresh ran (stale-while-revalidate).", counter, cache, func(c wsgate.CacheStats) uint64 { return c.StaleHits }),
	optional("wsgate_cache_misses_total", "Calls that started a backend call.", counter, cache, func(c wsgate.CacheStats) uint64 { return c.Misses }),
	optional("wsgate_cache_coalesced_total", "Calls that waited for an identical call already running.", counter, cache, func(c wsgate.CacheStats) uint64 { return c.Coalesced }),
	optional("wsgate_cache_refreshes_total", "Background refreshes of stale results.", counter, cache, func(c wsgate.CacheStats) uint64 { return c.Refreshes }),
	optional("wsgate_cache_load_errors_total", "Backend calls made for the cache that failed.", counter, cache, func(c wsgate.CacheStats) uint64 { return c.LoadErrors }),
	optional("wsgate_cache_evictions_total", "Results evicted to stay within the cache size.", counter, cache, func(c wsgate.CacheStats) uint64 { return c.Evictions }),
	optional("wsgate_cache_invalidated_total", "Results dropped by invalidation.", counter, cache, func(c wsgate.CacheStats) uint64 { return c.Invalidated }),
	optional("wsgate_cache_bytes", "Bytes held by the response cache.", gauge, cache, func(c wsgate.CacheStats) uint64 { return c.Bytes }),
	optional("wsgate_cache_entries", "Results held by the response cache.", gauge, cache, func(c wsgate.CacheStats) uint64 { return uint64(c.Entries) }),

	{"wsgate_frames_sent_total", "Text and binary frames sent, by encoding (deflate: RSV1 set; plain).", counter, "encoding", func(st *wsgate.Stats, emit func(float64, ...string)) {
		emit(float64(st.Compression.FramesDeflated), "deflate")
		emit(float64(st.Compression.FramesPlain), "plain")
	}},
	optional("wsgate_compressions_total", "Messages run through a compressor (at least the threshold long), used or not.", counter, compressor, func(c wsgate.CompressionStats) uint64 { return c.Compressions }),
	optional("wsgate_compressions_used_total", "Compressions that came out smaller than their input and were sent.", counter, compressor, func(c wsgate.CompressionStats) uint64 { return c.Compressed }),
	optional("wsgate_compression_bytes_in_total", "Bytes of messages before compression (used compressions only).", counter, compressor, func(c wsgate.CompressionStats) uint64 { return c.BytesIn }),
	optional("wsgate_compression_bytes_out_total", "Bytes of the same messages after compression.", counter, compressor, func(c wsgate.CompressionStats) uint64 { return c.BytesOut }),
	optional("wsgate_inflations_total", "Compressed messages from clients that were decompressed.", counter, compressor, func(c wsgate.CompressionStats) uint64 { return c.Inflations }),
	optional("wsgate_compression_contexts", "Connections holding a compressor context (context takeover), from the handshake until they close; at most the configured cap.", gauge, compressor, func(c wsgate.CompressionStats) uint64 { return uint64(c.Contexts) }),
	optional("wsgate_broker_up", "1 while the broker's link to the cluster (NATS) is up, else 0.", gauge, broker, func(b wsgate.BrokerStats) uint64 { return b2u(b.Connected) }),
	optional("wsgate_broker_jetstream", "1 when channel history is kept (JetStream), 0 when live only.", gauge, broker, func(b wsgate.BrokerStats) uint64 { return b2u(b.History) }),
	optional("wsgate_broker_published_total", "Publications made through the broker by this node.", counter, broker, func(b wsgate.BrokerStats) uint64 { return b.Published }),
	optional("wsgate_broker_conflicts_total", "Publishes tried again because another node numbered the channel first.", counter, broker, func(b wsgate.BrokerStats) uint64 { return b.Conflicts }),
	optional("wsgate_broker_history_reads_total", "History reads made from the cluster's store (JetStream).", counter, broker, func(b wsgate.BrokerStats) uint64 { return b.Reads }),
	optional("wsgate_broker_history_coalesced_total", "History requests served by another request's read.", counter, broker, func(b wsgate.BrokerStats) uint64 { return b.Coalesced }),
	optional("wsgate_broker_gaps_total", "Gaps in live deliveries filled from the store.", counter, broker, func(b wsgate.BrokerStats) uint64 { return b.Gaps }),
	optional("wsgate_broker_reconnects_total", "Reconnections to the cluster.", counter, broker, func(b wsgate.BrokerStats) uint64 { return b.Reconnects }),
	optional("wsgate_broker_dropped_total", "Live messages lost on the way because this node fell behind (they are read from the store).", counter, broker, func(b wsgate.BrokerStats) uint64 { return b.Dropped }),
}

// part is one part of a server that a Config may disable: its figures
// and whether it is on.
type part[T any] func(st *wsgate.Stats) (figures T, on bool)

func cache(st *wsgate.Stats) (wsgate.CacheStats, bool) { return st.Cache, !st.Cache.Disabled }

func broker(st *wsgate.Stats) (wsgate.BrokerStats, bool) {
	if st.Broker == nil {
		return wsgate.BrokerStats{}, false
	}
	return *st.Broker, true
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func compressor(st *wsgate.Stats) (wsgate.CompressionStats, bool) {
	return st.Compression, !st.Compression.Disabled
}

// optional is an unlabelled family read from one figure of a part, and
// exported only while that part is on.
func optional[T any](name, help string, typ prometheus.ValueType, p part[T], get func(T) uint64) family {
	return family{name: name, help: help, typ: typ, read: func(st *wsgate.Stats, emit func(float64, ...string)) {
		if figures, on := p(st); on {
			emit(float64(get(figures)))
		}
	}}
}
