package metrics_test

import (
	"fmt"
	"log"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/metrics"
)

// A program with a Prometheus registry of its own registers the Server's
// collector in it, beside its own metrics, and serves the registry.
func ExampleNewCollector() {
	srv, err := wsgate.New(wsgate.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(srv))

	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// go http.ListenAndServe(":8080", mux)

	families, err := reg.Gather()
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), "wsgate_connections") {
			fmt.Println(f.GetName(), f.GetType(), len(f.GetMetric()))
		}
	}
	// Output:
	// wsgate_connections GAUGE 2
	// wsgate_connections_closed_total COUNTER 7
	// wsgate_connections_opened_total COUNTER 2
}
