package wsgate_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/wsgate/wsgate"
)

// flakyBroker is an in-memory broker whose readiness the test sets.
type flakyBroker struct {
	*wsgate.MemoryBroker
	down atomic.Bool
}

func (b *flakyBroker) Ready() error {
	if b.down.Load() {
		return errors.New("cut off")
	}
	return nil
}

// TestReadyzFollowsTheBroker: /readyz answers 503 while a ReadyBroker
// is not ready, and 200 again once it is.
func TestReadyzFollowsTheBroker(t *testing.T) {
	t.Parallel()
	b := &flakyBroker{MemoryBroker: wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{})}
	defer b.Close()
	srv, _ := startServer(t, wsgate.Config{Broker: b})
	h := srv.Handler()
	status := func() (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	for _, tt := range []struct {
		down bool
		code int
		body string
	}{
		{false, http.StatusOK, "ready\n"},
		{true, http.StatusServiceUnavailable, "broker not ready: cut off\n"},
		{false, http.StatusOK, "ready\n"},
	} {
		b.down.Store(tt.down)
		if code, body := status(); code != tt.code || body != tt.body {
			t.Errorf("broker down=%v: /readyz %d %q, want %d %q", tt.down, code, body, tt.code, tt.body)
		}
	}
}
