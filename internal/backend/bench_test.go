package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkCall measures one call over loopback keep-alive, against the
// bare net/http exchange it is built on (BenchmarkCall/net-http). The
// test server runs in the same process, so cpu-ns/op counts both sides.
func BenchmarkCall(b *testing.B) {
	body := []byte(`{"symbol":"ACME","price":123.45,"ts":1700000000000}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Cache-Control", "max-age=5")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	args := json.RawMessage(`{"symbol":"ACME"}`)

	b.Run("client", func(b *testing.B) {
		c, err := New(Config{URL: srv.URL})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			if _, err := c.Call(context.Background(), "market.quote", args, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("net-http", func(b *testing.B) {
		tr := &http.Transport{MaxIdleConnsPerHost: 16}
		defer tr.CloseIdleConnections()
		hc := &http.Client{Transport: tr}
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			resp, err := hc.Post(srv.URL+"/market.quote", "application/json", bytes.NewReader(args))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
	})
}

func BenchmarkParseCacheControl(b *testing.B) {
	h := http.Header{"Cache-Control": {"public, max-age=60, s-maxage=30, stale-while-revalidate=10"}, "Age": {"3"}}
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if ParseCacheControl(h).TTL() == 0 {
			b.Fatal("no TTL")
		}
	}
}

// reportCPU adds a cpu-ns/op metric, the process's user+system CPU time per
// operation: on a shared machine it varies less than wall time. Call the
// returned function after the benchmark loop.
func reportCPU(b *testing.B) func() {
	start, ok := processCPU()
	return func() {
		if end, _ := processCPU(); ok && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
	}
}
