package e2e

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/internal/promtext"
	"github.com/wsgate/wsgate/metrics"
)

// TestContextTakeover runs Node's ws and Python's websockets against a
// server with Compression.ContextTakeover and against one without, on
// each engine: each peer echoes twenty similar 4 KB JSON documents, both
// ways compressed, inflating the server's messages with the window of
// the ones before. With context takeover the server must send a fraction
// of the compressed bytes it sends without.
func TestContextTakeover(t *testing.T) {
	t.Parallel()
	peers := map[string][]string{"node-ws": {"node/takeover.mjs"}, "python-websockets": {"python/takeover.py"}}
	for _, eng := range engines {
		t.Run(eng.String(), func(t *testing.T) {
			t.Parallel()
			if !eng.Supported() {
				t.Skipf("engine %v is not supported on this system", eng)
			}
			for _, p := range scriptPeers() {
				t.Run(p.name, func(t *testing.T) {
					t.Parallel()
					argv, missing := p.command()
					if missing != "" {
						peerMissing(t, p.name, missing)
					}
					// The interpreter, then the takeover script instead of interop's.
					argv = append(argv[:1:1], peers[p.name]...)
					var out [2]float64
					for i, mode := range []string{"takeover", "stateless"} {
						t.Run(mode, func(t *testing.T) {
							srv, base := startCompressionServer(t, eng, mode == "takeover")
							runScriptCases(t, append(argv, mode), base, []string{"takeover/echo"})
							m := scrape(t, srv)
							if m["wsgate_inflations_total"] < 10 {
								t.Errorf("the server inflated %v messages: want the peer's messages compressed too", m["wsgate_inflations_total"])
							}
							out[i] = m["wsgate_compression_bytes_out_total"]
							t.Logf("%s: %v compressed bytes sent for 20 echoes of about 4 KB", mode, out[i])
						})
					}
					if out[0]*4 > out[1] {
						t.Errorf("compressed bytes sent: %v with context takeover, %v without: want less than a quarter", out[0], out[1])
					}
				})
			}
		})
	}
}

// startCompressionServer starts a server on eng, with compression context
// takeover when takeover is set, and returns it and its base URL.
func startCompressionServer(t *testing.T, eng wsgate.EngineKind, takeover bool) (*wsgate.Server, string) {
	t.Helper()
	srv, err := wsgate.New(wsgate.Config{Engine: eng, Compression: wsgate.CompressionConfig{ContextTakeover: takeover}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		ts.Close()
	})
	return srv, "ws" + strings.TrimPrefix(ts.URL, "http")
}

// scrape reads srv's /metrics samples, by name and labels.
func scrape(t *testing.T, srv *wsgate.Server) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	metrics.Handler(srv).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	vals, err := promtext.Parse(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return vals
}
