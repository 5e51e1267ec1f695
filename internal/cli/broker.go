package cli

import (
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/wsgate/wsgate"
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
// after the Server's shutdown.
func (o brokerOptions) newBroker(logger *slog.Logger) (wsgate.Broker, error) {
	if o.nats == "" {
		return wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{HistorySize: o.historySize}), nil
	}
	nb, err := natsbroker.New(natsbroker.Options{
		URL:         o.nats,
		CredsFile:   o.natsCreds,
		TLSCAFile:   o.natsTLSCA,
		HistorySize: o.historySize,
		HistoryAge:  o.historyAge,
		Logger:      logger,
	})
	if err != nil {
		return nil, fmt.Errorf("wsgate: --nats: %w", err)
	}
	return nb, nil
}
