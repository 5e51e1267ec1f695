package bench

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
)

func TestParseCallCacheFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		args        []string
		wantMiss    float64
		wantMetrics string
		wantErr     string // substring; "" means success
	}{
		{"defaults", []string{"call"}, 0, "http://127.0.0.1:8080/metrics", ""},
		{"derived from url", []string{"call", "--url", "ws://127.0.0.2:9000/ws"}, 0, "http://127.0.0.2:9000/metrics", ""},
		{"derived from wss", []string{"call", "--url", "wss://127.0.0.1:8443/x/ws"}, 0, "https://127.0.0.1:8443/metrics", ""},
		{"explicit metrics", []string{"call", "--metrics", "http://127.0.0.1:9100/m"}, 0, "http://127.0.0.1:9100/m", ""},
		{"miss ratio", []string{"call", "--miss-ratio", "0.05", "--args", `{"symbol":"ACME"}`}, 0.05, "http://127.0.0.1:8080/metrics", ""},
		{"miss ratio without args", []string{"call", "--miss-ratio", "1"}, 1, "http://127.0.0.1:8080/metrics", ""},
		{"miss ratio over 1", []string{"call", "--miss-ratio", "1.5"}, 0, "", "--miss-ratio"},
		{"negative miss ratio", []string{"call", "--miss-ratio", "-0.1"}, 0, "", "--miss-ratio"},
		{"NaN miss ratio", []string{"call", "--miss-ratio", "NaN"}, 0, "", "--miss-ratio"},
		{"array args", []string{"call", "--miss-ratio", "0.1", "--args", `[1]`}, 0, "", "JSON object"},
		{"array args, no misses", []string{"call", "--args", `[1]`}, 0, "http://127.0.0.1:8080/metrics", ""},
		{"bad metrics URL", []string{"call", "--metrics", "ws://127.0.0.1/metrics"}, 0, "", "--metrics"},
		{"not for echo", []string{"echo", "--miss-ratio", "0.1"}, 0, "", "unknown flag --miss-ratio"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, err := parseArgs(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.MissRatio != tt.wantMiss || o.MetricsURL != tt.wantMetrics {
				t.Errorf("miss ratio %v, metrics %q; want %v, %q", o.MissRatio, o.MetricsURL, tt.wantMiss, tt.wantMetrics)
			}
		})
	}
}

func TestParseCacheCounters(t *testing.T) {
	t.Parallel()
	const full = `# HELP wsgate_cache_hits_total Calls answered by a fresh cached result.
# TYPE wsgate_cache_hits_total counter
wsgate_cache_hits_total 950
wsgate_cache_stale_hits_total 3
wsgate_cache_misses_total 47
wsgate_cache_coalesced_total 2e+00
wsgate_cache_hits_total_other 7
wsgate_calls_total{code="ok"} 1002
`
	tests := []struct {
		name    string
		text    string
		want    cacheCounters
		wantErr bool
	}{
		{"all", full, cacheCounters{hits: 950, stale: 3, misses: 47, coalesced: 2}, false},
		{"zeros", "wsgate_cache_hits_total 0\nwsgate_cache_misses_total 0\n", cacheCounters{}, false},
		{"timestamp", "wsgate_cache_hits_total 5 1700000000000\nwsgate_cache_misses_total 1\n", cacheCounters{hits: 5, misses: 1}, false},
		{"not wsgate", "go_goroutines 12\n", cacheCounters{}, true},
		{"bad value", "wsgate_cache_hits_total x\nwsgate_cache_misses_total 1\n", cacheCounters{}, true},
		{"empty", "", cacheCounters{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseCacheCounters(strings.NewReader(tt.text))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	d := cacheCounters{hits: 1950, stale: 3, misses: 97, coalesced: 2}.delta(cacheCounters{hits: 1000, misses: 50})
	if *d != (CacheResult{Hits: 950, StaleHits: 3, Misses: 47, Coalesced: 2, HitRatio: 953.0 / 1002}) {
		t.Errorf("delta: %+v", d)
	}
	if d := (cacheCounters{}).delta(cacheCounters{}); d.HitRatio != 0 {
		t.Errorf("empty window: hit ratio %v", d.HitRatio)
	}
}

func TestArgsWithNonce(t *testing.T) {
	t.Parallel()
	tests := []struct{ args, want string }{
		{``, `{"nonce":7}`},
		{`{}`, `{"nonce":7}`},
		{` { } `, `{"nonce":7 }`},
		{`{"symbol":"ACME","points":50}`, `{"nonce":7,"symbol":"ACME","points":50}`},
		{` {"a":[1]} `, `{"nonce":7,"a":[1]}`},
	}
	for _, tt := range tests {
		got := argsWithNonce(nil, []byte(tt.args), 7)
		if string(got) != tt.want {
			t.Errorf("%q: got %s, want %s", tt.args, got, tt.want)
		}
		var v map[string]any
		if err := json.Unmarshal(got, &v); err != nil || v["nonce"] != 7.0 {
			t.Errorf("%q: got %s: not an object with the nonce (%v)", tt.args, got, err)
		}
	}
}

func TestParseReply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		reply   string
		id      uint64
		code    string
		pub     bool
		wantErr bool
	}{
		{`{"id":12,"result":{"a":1}}`, 12, "ok", false, false},
		{`{"id":3,"result":[]}`, 3, "ok", false, false},
		{`{"id":4,"error":{"code":"not_found","message":"x"}}`, 4, "not_found", false, false},
		{`{"result":1,"id":5}`, 5, "ok", false, false},
		{` {"id":6,"error":{"message":"m","code":"timeout"}}`, 6, "timeout", false, false},
		{`{"ch":"ticks","seq":1,"data":{}}`, 0, "", true, false},
		{`{"id":"x","result":1}`, 0, "", false, true},
		{`not json`, 0, "", false, true},
	}
	for _, tt := range tests {
		id, code, pub, err := parseReply([]byte(tt.reply))
		if (err != nil) != tt.wantErr || id != tt.id || code != tt.code || pub != tt.pub {
			t.Errorf("%s: got %d %q %v %v", tt.reply, id, code, pub, err)
		}
	}
}

func TestCallHitRatio(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		lo, hi     float64 // bounds of the hit ratio; hi 0: no cache figures
		hitLatency bool    // hits alone are reported (some calls sent to miss, some not)
	}{
		{"all hits", []string{"--args", `{"x":1}`}, 0.99, 1, false},
		{"half misses", []string{"--args", `{"x":1}`, "--miss-ratio", "0.5"}, 0.35, 0.65, true},
		{"all misses, no args", []string{"--miss-ratio", "1"}, 0, 0.01, false},
		{"metrics unreachable", []string{"--metrics", "http://127.0.0.1:1/metrics"}, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := startWsgate(t, "") // a server each: its counters are the run's
			res, err := runJSON(t, append([]string{"call", "--url", base + "/ws", "--conns", "2", "--method", "bench.cached"}, tt.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			if res.Msgs == 0 || res.Codes["ok"] < res.Msgs {
				t.Fatalf("msgs %d, codes %v", res.Msgs, res.Codes)
			}
			if (res.HitLatency != nil) != tt.hitLatency {
				t.Errorf("hit latency %+v, want it %v", res.HitLatency, tt.hitLatency)
			}
			if tt.hi == 0 {
				if res.Cache != nil || res.CacheError == "" {
					t.Fatalf("cache %+v, error %q; want no figures and a reason", res.Cache, res.CacheError)
				}
				return
			}
			c := res.Cache
			if c == nil {
				t.Fatalf("no cache figures: %s", res.CacheError)
			}
			if c.HitRatio < tt.lo || c.HitRatio > tt.hi {
				t.Errorf("hit ratio %.3f (%+v), want %.2f to %.2f", c.HitRatio, c, tt.lo, tt.hi)
			}
			if total := c.Hits + c.StaleHits + c.Misses + c.Coalesced; total < uint64(res.Msgs)/2 {
				t.Errorf("server counted %d calls in the window, the client %d replies", total, res.Msgs)
			}
		})
	}
}
