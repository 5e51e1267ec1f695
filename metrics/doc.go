// Package metrics exports a wsgate.Server's counters to Prometheus.
//
// The wsgate package itself does not import Prometheus: a program that
// embeds a Server and does not want Prometheus does not build it in. A
// program that does registers NewCollector in its own registry, beside its
// own metrics, or mounts Handler, which serves a registry of its own with
// the collector and the Go runtime and process collectors (what the wsgate
// command serves on /metrics).
//
// # Metrics
//
// Every figure of wsgate.Stats, read at scrape time:
//
//	wsgate_connections{endpoint}                   gauge      open WebSocket connections (endpoint: ws, echo)
//	wsgate_connections_opened_total{endpoint}      counter
//	wsgate_messages_received_total{endpoint}       counter
//	wsgate_connections_closed_total{reason}        counter    peer, server, protocol_error, slow_consumer, idle, network, write_timeout
//	wsgate_calls_total{code}                       counter    ok or an error code
//	wsgate_call_duration_seconds{code}             histogram  500µs to 10s
//	wsgate_channels, wsgate_subscriptions          gauge
//	wsgate_publications_total, wsgate_deliveries_total  counter
//	wsgate_cache_*                                 counters and gauges, unless the cache is disabled
//	wsgate_frames_sent_total{encoding}             counter    deflate, plain
//	wsgate_compression*, wsgate_compressions*, wsgate_inflations_total  unless compression is disabled
//
// The help text of each metric says what it counts; wsgate.Stats documents
// the same figures in Go.
package metrics
