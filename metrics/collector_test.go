package metrics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/metrics"
)

// wsgateFamilies are the wsgate_* metric families with their types: the
// names dashboards and alerts are built on, kept from one release to the
// next. The cache and compressor families are absent when those are
// disabled.
var wsgateFamilies = map[string]dto.MetricType{
	"wsgate_connections":                 dto.MetricType_GAUGE,
	"wsgate_connections_opened_total":    dto.MetricType_COUNTER,
	"wsgate_messages_received_total":     dto.MetricType_COUNTER,
	"wsgate_connections_closed_total":    dto.MetricType_COUNTER,
	"wsgate_calls_total":                 dto.MetricType_COUNTER,
	"wsgate_call_duration_seconds":       dto.MetricType_HISTOGRAM,
	"wsgate_channels":                    dto.MetricType_GAUGE,
	"wsgate_subscriptions":               dto.MetricType_GAUGE,
	"wsgate_publications_total":          dto.MetricType_COUNTER,
	"wsgate_deliveries_total":            dto.MetricType_COUNTER,
	"wsgate_cache_hits_total":            dto.MetricType_COUNTER,
	"wsgate_cache_stale_hits_total":      dto.MetricType_COUNTER,
	"wsgate_cache_misses_total":          dto.MetricType_COUNTER,
	"wsgate_cache_coalesced_total":       dto.MetricType_COUNTER,
	"wsgate_cache_refreshes_total":       dto.MetricType_COUNTER,
	"wsgate_cache_load_errors_total":     dto.MetricType_COUNTER,
	"wsgate_cache_evictions_total":       dto.MetricType_COUNTER,
	"wsgate_cache_invalidated_total":     dto.MetricType_COUNTER,
	"wsgate_cache_bytes":                 dto.MetricType_GAUGE,
	"wsgate_cache_entries":               dto.MetricType_GAUGE,
	"wsgate_frames_sent_total":           dto.MetricType_COUNTER,
	"wsgate_compressions_total":          dto.MetricType_COUNTER,
	"wsgate_compressions_used_total":     dto.MetricType_COUNTER,
	"wsgate_compression_bytes_in_total":  dto.MetricType_COUNTER,
	"wsgate_compression_bytes_out_total": dto.MetricType_COUNTER,
	"wsgate_inflations_total":            dto.MetricType_COUNTER,
	"wsgate_compression_contexts":        dto.MetricType_GAUGE,
	"wsgate_limited_total":               dto.MetricType_COUNTER,
	"wsgate_log_lines_dropped_total":     dto.MetricType_COUNTER,
	"wsgate_input_bytes":                 dto.MetricType_GAUGE,
}

// scrape reads the exposition at url: its families by name, and every
// sample by its name and labels as printed, such as
// `wsgate_connections{endpoint="ws"}` or
// `wsgate_call_duration_seconds_bucket{code="ok",le="+Inf"}`.
func scrape(t *testing.T, url string) (map[string]*dto.MetricFamily, map[string]float64) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q, want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	samples := make(map[string]float64)
	for name, f := range families {
		for _, m := range f.GetMetric() {
			labels := func(extra ...string) string {
				var l []string
				for _, lp := range m.GetLabel() {
					l = append(l, fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue()))
				}
				l = append(l, extra...)
				if len(l) == 0 {
					return ""
				}
				return "{" + strings.Join(l, ",") + "}"
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				samples[name+labels()] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				samples[name+labels()] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				samples[name+"_count"+labels()] = float64(h.GetSampleCount())
				samples[name+"_sum"+labels()] = h.GetSampleSum()
				for _, b := range h.GetBucket() {
					samples[name+"_bucket"+labels(fmt.Sprintf("le=%q", fmt.Sprint(b.GetUpperBound())))] = float64(b.GetCumulativeCount())
				}
				samples[name+"_bucket"+labels(`le="+Inf"`)] = float64(h.GetSampleCount())
			default:
				samples[name+labels()] = m.GetUntyped().GetValue()
			}
		}
	}
	return families, samples
}

// server runs a Server with a small cache (so that it evicts), context
// takeover and the methods the traffic below calls, serving its handler
// and metrics.Handler on /metrics.
func server(t *testing.T, release <-chan struct{}) (srv *wsgate.Server, base string) {
	t.Helper()
	srv, err := wsgate.New(wsgate.Config{
		CacheSize:   8 << 10,
		Compression: wsgate.CompressionConfig{ContextTakeover: true},
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	result := func(v any) wsgate.CallFunc {
		return func(context.Context, json.RawMessage) (any, error) { return v, nil }
	}
	srv.Handle("ok", result(1))
	srv.Handle("fail", func(context.Context, json.RawMessage) (any, error) {
		return nil, wsgate.Errorf(wsgate.CodeTimeout, "too slow")
	})
	srv.Handle("cached", result("c"), wsgate.CacheFor(time.Hour))
	srv.Handle("stale", result("s"), wsgate.CacheFor(time.Millisecond), wsgate.StaleWhileRevalidate(time.Hour))
	srv.Handle("slow", func(ctx context.Context, _ json.RawMessage) (any, error) {
		<-release
		return "slow", nil
	}, wsgate.CacheFor(time.Hour))
	srv.Handle("broken", func(context.Context, json.RawMessage) (any, error) {
		return nil, wsgate.Errorf(wsgate.CodeUnavailable, "down")
	}, wsgate.CacheFor(time.Hour))
	srv.Handle("big", result(strings.Repeat("b", 600)), wsgate.CacheFor(time.Hour))

	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mux.Handle("/metrics", metrics.Handler(srv))
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
	})
	return srv, strings.TrimPrefix(ts.URL, "http://")
}

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, what string, cond func(wsgate.Stats) bool, srv *wsgate.Server) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(srv.Stats()); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s; stats %+v", what, srv.Stats())
		}
	}
}

// TestHandler drives traffic through every part of a live server that
// has a metric, then reads metrics.Handler's exposition: every family is
// there with its type, and every figure moved as the traffic says.
func TestHandler(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv, base := server(t, release)
	_, samples := scrape(t, "http://"+base+"/metrics")
	if v, ok := samples[`wsgate_calls_total{code="ok"}`]; !ok || v != 0 {
		t.Fatalf("before any call: calls ok %v (present %v), want 0", v, ok)
	}

	// /ws: calls of every kind, a subscription and a publication.
	c, _, err := (&websocket.Dialer{EnableCompression: true}).Dial("ws://"+base+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var id atomic.Int64
	send := func(method, args string) int64 {
		n := id.Add(1)
		msg := fmt.Sprintf(`{"id":%d,"call":%q}`, n, method)
		if args != "" {
			msg = fmt.Sprintf(`{"id":%d,"call":%q,"args":%s}`, n, method, args)
		}
		if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		return n
	}
	read := func() map[string]json.RawMessage {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	call := func(method, args, want string) {
		t.Helper()
		n := send(method, args)
		m := read()
		if string(m["id"]) != fmt.Sprint(n) || m[want] == nil {
			t.Fatalf("%s: reply %s, want %s", method, m, want)
		}
	}
	call("ok", "", "result")
	call("fail", "", "error")
	call("cached", "", "result") // a miss
	call("cached", "", "result") // a hit
	call("stale", "", "result")  // a miss
	time.Sleep(20 * time.Millisecond)
	call("stale", "", "result") // a stale hit and a refresh
	call("broken", "", "error") // a miss whose load fails
	send("slow", "")
	send("slow", "") // coalesced with the first
	waitFor(t, "a coalesced call", func(st wsgate.Stats) bool { return st.Cache.Coalesced == 1 }, srv)
	close(release)
	read()
	read()
	if n, err := srv.InvalidateCache("cached", nil); n != 1 || err != nil {
		t.Fatalf("InvalidateCache: %d, %v", n, err)
	}
	const bigCalls = 40 // 600-byte results in an 8 KiB cache: some are evicted
	for i := range bigCalls {
		call("big", fmt.Sprintf(`{"n":%d}`, i), "result")
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte(`{"id":"s","sub":"news"}`)); err != nil {
		t.Fatal(err)
	}
	read()
	doc := `{"text":"` + strings.Repeat("all the news that fits, ", 200) + `"}`
	if _, err := srv.Publish(context.Background(), "news", json.RawMessage(doc)); err != nil {
		t.Fatal(err)
	}
	if m := read(); m["ch"] == nil {
		t.Fatalf("got %s, want the publication", m)
	}

	// /echo: a connection with context takeover that stays open, one that
	// breaks RFC 6455 and one that drops without a Close frame.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	k, _, err := coder.Dial(ctx, "ws://"+base+"/echo", &coder.DialOptions{CompressionMode: coder.CompressionContextTakeover})
	if err != nil {
		t.Fatal(err)
	}
	defer k.CloseNow()
	if err := k.Write(ctx, coder.MessageText, []byte(doc)); err != nil {
		t.Fatal(err)
	}
	if _, b, err := k.Read(ctx); err != nil || string(b) != doc {
		t.Fatalf("echo: %d bytes, %v", len(b), err)
	}
	for _, msg := range [][]byte{{0xff}, nil} { // invalid UTF-8, or no Close frame
		e, _, err := websocket.DefaultDialer.Dial("ws://"+base+"/echo", nil)
		if err != nil {
			t.Fatal(err)
		}
		e.WriteMessage(websocket.TextMessage, []byte("x"))
		e.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := e.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		if msg != nil {
			e.WriteMessage(websocket.TextMessage, msg)
			e.ReadMessage() // the server's Close frame
		}
		e.Close()
	}
	waitFor(t, "two echo connections closed", func(st wsgate.Stats) bool {
		return st.Closed.ProtocolError == 1 && st.Closed.Network == 1 && st.Cache.Evictions > 0
	}, srv)

	families, samples := scrape(t, "http://"+base+"/metrics")
	for name, typ := range wsgateFamilies {
		if f := families[name]; f == nil || f.GetType() != typ || f.GetHelp() == "" {
			t.Errorf("family %s: %v, want type %v with help", name, f, typ)
		}
	}
	for name := range families {
		if _, ok := wsgateFamilies[name]; !ok && strings.HasPrefix(name, "wsgate_") {
			t.Errorf("family %s is not a known wsgate metric", name)
		}
	}
	okCalls := float64(1 + 2 + 2 + 2 + bigCalls)
	exact := map[string]float64{
		`wsgate_connections{endpoint="ws"}`:                        1,
		`wsgate_connections{endpoint="echo"}`:                      1,
		`wsgate_connections_opened_total{endpoint="ws"}`:           1,
		`wsgate_connections_opened_total{endpoint="echo"}`:         3,
		`wsgate_messages_received_total{endpoint="ws"}`:            okCalls + 2 + 1,
		`wsgate_messages_received_total{endpoint="echo"}`:          3,
		`wsgate_connections_closed_total{reason="peer"}`:           0,
		`wsgate_connections_closed_total{reason="server"}`:         0,
		`wsgate_connections_closed_total{reason="protocol_error"}`: 1,
		`wsgate_connections_closed_total{reason="slow_consumer"}`:  0,
		`wsgate_connections_closed_total{reason="idle"}`:           0,
		`wsgate_connections_closed_total{reason="network"}`:        1,
		`wsgate_connections_closed_total{reason="write_timeout"}`:  0,
		`wsgate_calls_total{code="ok"}`:                            okCalls,
		`wsgate_calls_total{code="timeout"}`:                       1,
		`wsgate_calls_total{code="unavailable"}`:                   1,
		`wsgate_call_duration_seconds_count{code="ok"}`:            okCalls,
		`wsgate_call_duration_seconds_bucket{code="ok",le="+Inf"}`: okCalls,
		`wsgate_call_duration_seconds_bucket{code="ok",le="10"}`:   okCalls,
		`wsgate_call_duration_seconds_count{code="timeout"}`:       1,
		`wsgate_call_duration_seconds_count{code="unavailable"}`:   1,
		`wsgate_channels`:                1,
		`wsgate_subscriptions`:           1,
		`wsgate_publications_total`:      1,
		`wsgate_deliveries_total`:        1,
		`wsgate_cache_hits_total`:        1,
		`wsgate_cache_stale_hits_total`:  1,
		`wsgate_cache_misses_total`:      1 + 1 + 1 + 1 + bigCalls, // cached, stale, broken, slow, big
		`wsgate_cache_coalesced_total`:   1,
		`wsgate_cache_refreshes_total`:   1,
		`wsgate_cache_load_errors_total`: 1,
		`wsgate_cache_invalidated_total`: 1,
		`wsgate_compression_contexts`:    1,
	}
	for name, want := range exact {
		if got, ok := samples[name]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	positive := []string{
		`wsgate_call_duration_seconds_sum{code="ok"}`,
		`wsgate_call_duration_seconds_bucket{code="ok",le="0.0005"}`,
		`wsgate_cache_evictions_total`,
		`wsgate_cache_bytes`,
		`wsgate_cache_entries`,
		`wsgate_frames_sent_total{encoding="deflate"}`,
		`wsgate_frames_sent_total{encoding="plain"}`,
		`wsgate_compressions_total`,
		`wsgate_compressions_used_total`,
		`wsgate_compression_bytes_in_total`,
		`wsgate_compression_bytes_out_total`,
		`wsgate_inflations_total`,
		`go_goroutines`,
	}
	if runtime.GOOS == "linux" { // where the process collector reads /proc
		positive = append(positive, `process_resident_memory_bytes`)
		if _, ok := samples[`process_cpu_seconds_total`]; !ok {
			t.Error("no process_cpu_seconds_total")
		}
	}
	for _, name := range positive {
		if got := samples[name]; !(got > 0) {
			t.Errorf("%s = %v, want more than 0", name, got)
		}
	}
	if in, out := samples["wsgate_compression_bytes_in_total"], samples["wsgate_compression_bytes_out_total"]; out >= in {
		t.Errorf("compressed %v bytes into %v", in, out)
	}
	if n, max := samples["wsgate_cache_bytes"], float64(8<<10); n > max {
		t.Errorf("cache holds %v bytes, over its %v", n, max)
	}

	// A client's Close frame counts as peer; connections Close drops, as
	// server.
	k.Close(coder.StatusNormalClosure, "")
	waitFor(t, "the echo client's close", func(st wsgate.Stats) bool { return st.Closed.Peer == 1 }, srv)
	srv.Close()
	waitFor(t, "the /ws connection dropped", func(st wsgate.Stats) bool { return st.WS.Open == 0 }, srv)
	_, samples = scrape(t, "http://"+base+"/metrics")
	for name, want := range map[string]float64{
		`wsgate_connections{endpoint="ws"}`:                0,
		`wsgate_connections{endpoint="echo"}`:              0,
		`wsgate_connections_closed_total{reason="peer"}`:   1,
		`wsgate_connections_closed_total{reason="server"}`: 1,
		`wsgate_compression_contexts`:                      0,
	} {
		if got := samples[name]; got != want {
			t.Errorf("after Close: %s = %v, want %v", name, got, want)
		}
	}
}

// TestCollectorDisabled checks that a server without a cache and without
// compression exports neither's figures, and still counts frames.
func TestCollectorDisabled(t *testing.T) {
	t.Parallel()
	srv, err := wsgate.New(wsgate.Config{CacheSize: -1, Compression: wsgate.CompressionConfig{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(metrics.Handler(srv))
	defer ts.Close()
	families, _ := scrape(t, ts.URL)
	for name := range wsgateFamilies {
		off := strings.HasPrefix(name, "wsgate_cache_") ||
			strings.HasPrefix(name, "wsgate_compression") || name == "wsgate_inflations_total"
		if _, ok := families[name]; ok == off {
			t.Errorf("family %s present: %v", name, ok)
		}
	}
	// The in-memory broker reports no figures of its own.
	for name := range families {
		if strings.HasPrefix(name, "wsgate_broker_") {
			t.Errorf("family %s present with the in-memory broker", name)
		}
	}
}
