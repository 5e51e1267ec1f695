package natsbroker

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/metrics"
)

// TestBrokerStatsInServer: a Server on this Broker reports its figures
// (Stats.Broker), and an embedder's metrics.Handler exports them as
// wsgate_broker_*; a publication is counted.
func TestBrokerStatsInServer(t *testing.T) {
	t.Parallel()
	ns := startNATS(t, t.TempDir(), -1)
	n := startNode(t, ns.ClientURL(), Options{})
	dial(t, n.ws).pub("counted", `1`)
	st := n.srv.Stats().Broker
	if st == nil || !st.Connected || !st.History || st.Published != 1 {
		t.Fatalf("Stats().Broker = %+v, want connected, with history, 1 published", st)
	}
	rec := httptest.NewRecorder()
	metrics.Handler(n.srv).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{"wsgate_broker_up 1", "wsgate_broker_jetstream 1", "wsgate_broker_published_total 1"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
