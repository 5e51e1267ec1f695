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

	cacheFamily("wsgate_cache_hits_total", "Calls answered by a fresh cached result.", counter, func(c wsgate.CacheStats) uint64 { return c.Hits }),
	cacheFamily("wsgate_cache_stale_hits_total", "Calls answered by a stale result while one refresh ran (stale-while-revalidate).", counter, func(c wsgate.CacheStats) uint64 { return c.StaleHits }),
	cacheFamily("wsgate_cache_misses_total", "Calls that started a backend call.", counter, func(c wsgate.CacheStats) uint64 { return c.Misses }),
	cacheFamily("wsgate_cache_coalesced_total", "Calls that waited for an identical call already running.", counter, func(c wsgate.CacheStats) uint64 { return c.Coalesced }),
	cacheFamily("wsgate_cache_refreshes_total", "Background refreshes of stale results.", counter, func(c wsgate.CacheStats) uint64 { return c.Refreshes }),
	cacheFamily("wsgate_cache_load_errors_total", "Backend calls made for the cache that failed.", counter, func(c wsgate.CacheStats) uint64 { return c.LoadErrors }),
	cacheFamily("wsgate_cache_evictions_total", "Results evicted to stay within the cache size.", counter, func(c wsgate.CacheStats) uint64 { return c.Evictions }),
	cacheFamily("wsgate_cache_invalidated_total", "Results dropped by invalidation.", counter, func(c wsgate.CacheStats) uint64 { return c.Invalidated }),
	cacheFamily("wsgate_cache_bytes", "Bytes held by the response cache.", gauge, func(c wsgate.CacheStats) uint64 { return c.Bytes }),
	cacheFamily("wsgate_cache_entries", "Results held by the response cache.", gauge, func(c wsgate.CacheStats) uint64 { return uint64(c.Entries) }),

	{"wsgate_frames_sent_total", "Text and binary frames sent, by encoding (deflate: RSV1 set; plain).", counter, "encoding", func(st *wsgate.Stats, emit func(float64, ...string)) {
		emit(float64(st.Compression.FramesDeflated), "deflate")
		emit(float64(st.Compression.FramesPlain), "plain")
	}},
	codecFamily("wsgate_compressions_total", "Messages run through a compressor (at least the threshold long), used or not.", counter, func(c wsgate.CompressionStats) uint64 { return c.Compressions }),
	codecFamily("wsgate_compressions_used_total", "Compressions that came out smaller than their input and were sent.", counter, func(c wsgate.CompressionStats) uint64 { return c.Compressed }),
	codecFamily("wsgate_compression_bytes_in_total", "Bytes of messages before compression (used compressions only).", counter, func(c wsgate.CompressionStats) uint64 { return c.BytesIn }),
	codecFamily("wsgate_compression_bytes_out_total", "Bytes of the same messages after compression.", counter, func(c wsgate.CompressionStats) uint64 { return c.BytesOut }),
	codecFamily("wsgate_inflations_total", "Compressed messages from clients that were decompressed.", counter, func(c wsgate.CompressionStats) uint64 { return c.Inflations }),
	codecFamily("wsgate_compression_contexts", "Connections holding a compressor context (context takeover), from the handshake until they close; at most the configured cap.", gauge, func(c wsgate.CompressionStats) uint64 { return uint64(c.Contexts) }),
}

// cacheFamily is an unlabelled figure of the response cache, exported
// unless the cache is disabled.
func cacheFamily(name, help string, typ prometheus.ValueType, get func(wsgate.CacheStats) uint64) family {
	return family{name: name, help: help, typ: typ, read: func(st *wsgate.Stats, emit func(float64, ...string)) {
		if !st.Cache.Disabled {
			emit(float64(get(st.Cache)))
		}
	}}
}

// codecFamily is an unlabelled figure of permessage-deflate's compressor,
// exported unless compression is disabled.
func codecFamily(name, help string, typ prometheus.ValueType, get func(wsgate.CompressionStats) uint64) family {
	return family{name: name, help: help, typ: typ, read: func(st *wsgate.Stats, emit func(float64, ...string)) {
		if !st.Compression.Disabled {
			emit(float64(get(st.Compression)))
		}
	}}
}
