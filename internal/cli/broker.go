package cli

import (
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/metrics"
	"github.com/wsgate/wsgate/natsbroker"
)

// brokerOptions are the flags that choose and tune the Broker: the
// in-memory one of a single node, or NATS with --nats.
type brokerOptions struct {
	nats        string
	natsCreds   string
	natsTLSCA   string
	historySize int
	historyAge  time.Duration
}

func (o *brokerOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.nats, "nats", "", "join a cluster through NATS: comma-separated server URLs (nats://host:4222,…); history is kept in JetStream when the servers have it (default: in-memory broker, single node)")
	fs.StringVar(&o.natsCreds, "nats-creds", "", "NATS credentials file (JWT and NKey seed) for --nats")
	fs.StringVar(&o.natsTLSCA, "nats-tls-ca", "", "PEM file of the certificate authorities trusted for the NATS servers' TLS certificates")
	fs.IntVar(&o.historySize, "history-size", wsgate.DefaultHistorySize, "publications each channel keeps for resuming clients")
	fs.DurationVar(&o.historyAge, "history-age", natsbroker.DefaultHistoryAge, "how long a publication is kept for resuming clients (with --nats; the in-memory broker keeps them by count only)")
}

func (o brokerOptions) check() error {
	if o.historySize <= 0 {
		return fmt.Errorf("wsgate: --history-size %d: want 1 or more", o.historySize)
	}
	if o.historyAge <= 0 {
		return fmt.Errorf("wsgate: --history-age %v: want more than 0", o.historyAge)
	}
	if o.nats == "" && (o.natsCreds != "" || o.natsTLSCA != "") {
		return fmt.Errorf("wsgate: --nats-creds and --nats-tls-ca need --nats")
	}
	return nil
}

// newBroker returns the Broker the flags choose. The caller closes it
// after the Server's shutdown. nb is the NATS broker, nil without --nats.
func (o brokerOptions) newBroker(logger *slog.Logger) (b wsgate.Broker, nb *natsbroker.Broker, err error) {
	if o.nats == "" {
		return wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{HistorySize: o.historySize}), nil, nil
	}
	nb, err = natsbroker.New(natsbroker.Options{
		URL:         o.nats,
		CredsFile:   o.natsCreds,
		TLSCAFile:   o.natsTLSCA,
		HistorySize: o.historySize,
		HistoryAge:  o.historyAge,
		Logger:      logger,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("wsgate: --nats: %w", err)
	}
	return nb, nb, nil
}

// metricsHandler serves /metrics: the Server's metrics and, with NATS,
// the broker's.
func metricsHandler(srv *wsgate.Server, nb *natsbroker.Broker) http.Handler {
	if nb == nil {
		return metrics.Handler(srv)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(srv), newBrokerCollector(nb),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// brokerCollector exports a NATS broker's Stats, read at each scrape.
type brokerCollector struct {
	nb    *natsbroker.Broker
	descs []brokerMetric
}

// brokerMetric is one metric of natsbroker.Stats.
type brokerMetric struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
	read func(natsbroker.Stats) float64
}

func newBrokerCollector(nb *natsbroker.Broker) *brokerCollector {
	m := func(name, help string, typ prometheus.ValueType, read func(natsbroker.Stats) float64) brokerMetric {
		return brokerMetric{prometheus.NewDesc(name, help, nil, nil), typ, read}
	}
	counter := prometheus.CounterValue
	return &brokerCollector{nb: nb, descs: []brokerMetric{
		m("wsgate_broker_up", "1 while the connection to NATS is up, else 0.", prometheus.GaugeValue, func(s natsbroker.Stats) float64 { return b2f(s.Connected) }),
		m("wsgate_broker_jetstream", "1 when history is kept in JetStream, 0 when NATS has no JetStream (live only).", prometheus.GaugeValue, func(s natsbroker.Stats) float64 { return b2f(s.JetStream) }),
		m("wsgate_broker_published_total", "Publications made through NATS by this node.", counter, func(s natsbroker.Stats) float64 { return float64(s.Published) }),
		m("wsgate_broker_conflicts_total", "Publishes tried again because another node numbered the channel first.", counter, func(s natsbroker.Stats) float64 { return float64(s.Conflicts) }),
		m("wsgate_broker_history_reads_total", "History reads made from JetStream.", counter, func(s natsbroker.Stats) float64 { return float64(s.Reads) }),
		m("wsgate_broker_history_coalesced_total", "History requests served by another request's read.", counter, func(s natsbroker.Stats) float64 { return float64(s.Coalesced) }),
		m("wsgate_broker_gaps_total", "Gaps in live deliveries filled from the stream.", counter, func(s natsbroker.Stats) float64 { return float64(s.Gaps) }),
		m("wsgate_broker_reconnects_total", "Reconnections to NATS.", counter, func(s natsbroker.Stats) float64 { return float64(s.Reconnects) }),
		m("wsgate_broker_dropped_total", "Live messages NATS dropped because this node fell behind (they are read from the stream).", counter, func(s natsbroker.Stats) float64 { return float64(s.Dropped) }),
	}}
}

func (c *brokerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.descs {
		ch <- m.desc
	}
}

func (c *brokerCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.nb.Stats()
	for _, m := range c.descs {
		ch <- prometheus.MustNewConstMetric(m.desc, m.typ, m.read(st))
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
