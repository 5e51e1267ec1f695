package main

import (
	"math"
	"strings"
	"testing"
)

const sample = `{"server":"gorilla","scenario":"echo 64 B","kind":"echo","rep":1,"error":"","result":{"msgs_per_s":900,"latency_us":{"p99":1500},"server":{"cpu_us_per_msg":20,"msgs_per_cpu_s":50000},"client_cpu_s":1.7,"duration_s":2}}
{"server":"wsgate","scenario":"echo 64 B","kind":"echo","rep":1,"error":"","result":{"msgs_per_s":1000,"latency_us":{"p99":900},"server":{"cpu_us_per_msg":10,"msgs_per_cpu_s":100000}}}
{"server":"wsgate","scenario":"echo 64 B","kind":"echo","rep":2,"error":"","result":{"msgs_per_s":3000,"latency_us":{"p99":700},"server":{"cpu_us_per_msg":12,"msgs_per_cpu_s":80000}}}
{"server":"wsgate","scenario":"echo 64 B","kind":"echo","rep":3,"error":"","result":{"msgs_per_s":2000,"latency_us":{"p99":800},"server":{"cpu_us_per_msg":11,"msgs_per_cpu_s":90000},"client_cpu_s":1.9,"client_saturated":true,"duration_s":2}}

{"server":"wsgate","scenario":"idle 1k","kind":"idle","rep":1,"error":"","result":{"storm":{"opened":1000,"per_s":4000},"server":{"rss_per_conn_bytes":16000}}}
{"server":"gorilla","scenario":"idle 1k","kind":"idle","rep":1,"error":"","result":{"storm":{"opened":1000,"per_s":3000},"server":{"rss_per_conn_bytes":24000}}}
{"server":"gorilla","scenario":"idle 1k","kind":"idle","rep":2,"error":"bench: hit the open-file limit","result":null}
{"server":"wsgate","scenario":"idle","kind":"idle","rep":1,"error":"","result":{"storm":{"opened":3000,"per_s":2000},"server":{"rss_per_conn_bytes":5},"steps":[{"conns":2000,"handshakes_per_s":2500,"rss_per_conn_bytes":900},{"conns":3000,"handshakes_per_s":1500,"rss_per_conn_bytes":800}]}}
{"server":"wsgate","scenario":"echo 4 KiB JSON deflate","kind":"echo","rep":1,"error":"","result":{"msgs_per_s":500,"latency_us":{"p99":2000},"server":{"cpu_us_per_msg":50,"msgs_per_cpu_s":20000},"deflate":{"sent":900,"ratio":3.7,"received":900}}}
{"server":"gws","scenario":"echo 4 KiB JSON deflate","kind":"echo","rep":1,"error":"","result":{"msgs_per_s":400,"latency_us":{"p99":3000},"server":{"cpu_us_per_msg":80,"msgs_per_cpu_s":12500},"deflate":{"sent":800,"ratio":3.7,"received":800}}}
{"server":"gws","scenario":"echo 4 KiB JSON deflate","kind":"echo","rep":2,"error":"","result":{"msgs_per_s":600,"latency_us":{"p99":1000},"server":{"cpu_us_per_msg":20,"msgs_per_cpu_s":50000},"whole_run":{"deflate":{"sent":800,"ratio":3.7,"received":0}}}}
{"server":"gws","scenario":"echo 4 KiB JSON deflate","kind":"echo","rep":3,"error":"","result":{"msgs_per_s":450,"latency_us":{"p99":2500},"server":{"cpu_us_per_msg":70,"msgs_per_cpu_s":14000},"deflate":{"sent":800,"ratio":3.7,"received":800}}}
{"server":"nbio","scenario":"idle","kind":"idle","rep":1,"error":"","result":{"storm":{"opened":3000,"per_s":2000},"server":{"rss_per_conn_bytes":5},"steps":[{"conns":2000,"handshakes_per_s":2400,"rss_per_conn_bytes":450},{"conns":3000,"handshakes_per_s":1400,"rss_per_conn_bytes":200}]}}
`

func TestTable(t *testing.T) {
	t.Parallel()
	recs, err := readRecords(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := writeTable(&b, recs); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"| echo 64 B | wsgate | 2,000 | 800 µs † | 11.00 µs | 90,000 | – | 1.00× |",
		"† The load generator used 90 % or more of its cores",
		"| echo 64 B | gorilla | 900 | 1.50 ms | 20.00 µs | 50,000 | – | 0.56× |",
		"| idle 1k | wsgate | 4,000 | – | – | – | 15.6 KiB | 1.00× |",
		"| idle 1k | gorilla (1/2 ok) | 3,000 | – | – | – | 23.4 KiB | 1.50× |",
		"- failed: idle 1k, gorilla: bench: hit the open-file limit",
		"| idle 2k conns | wsgate | 2,500 | – | – | – | 900 B | 1.00× |",
		"| idle 2k conns | nbio | 2,400 | – | – | – | 450 B | 0.50× |",
		"| idle 3k conns | wsgate | 1,500 | – | – | – | 800 B | 1.00× |",
		"| idle 3k conns | nbio | 1,400 | – | – | – | 200 B | 0.25× |",
		"| echo 4 KiB JSON deflate | wsgate | 500 | 2.00 ms | 50.00 µs | 20,000 | – | 1.00× |",
		"| echo 4 KiB JSON deflate | gws | 450 | 2.50 ms | 70.00 µs | 14,000 | – | 0.70× |",
		"- not compressed: echo 4 KiB JSON deflate, gws: the server sent no compressed message in 1 of 3 runs",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	// wsgate's rows come first within a scenario.
	if strings.Index(got, "| echo 64 B | wsgate") > strings.Index(got, "| echo 64 B | gorilla") {
		t.Errorf("baseline not first:\n%s", got)
	}
}

func TestMedian(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{7}, 7},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median(nil) is not NaN")
	}
}
