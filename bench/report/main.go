// Command report turns the JSON lines that bench/run.sh collects into one
// markdown table: for each scenario and server, the median over the
// repetitions of messages per second, p99 latency, the server's CPU per
// message and messages per server CPU-second (echo), or the server's RSS
// growth per connection and the handshake rate (idle), with a column
// relative to wsgate.
//
//	report results.jsonl > table.md
//
// Each input line is {"server","scenario","kind","rep","error","result"},
// where result is the object "wsgate bench --json" printed (or null) and
// kind is "echo" or "idle". An idle run with steps (conns --steps) gives
// one row per step. A run with --deflate in which the server sent no
// compressed message gets a note under the table.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: report results.jsonl")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	defer f.Close()
	recs, err := readRecords(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	if err := writeTable(os.Stdout, recs); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// record is one run of wsgate bench.
type record struct {
	Server   string  `json:"server"`
	Scenario string  `json:"scenario"`
	Kind     string  `json:"kind"` // "echo" or "idle"
	Rep      int     `json:"rep"`
	Error    string  `json:"error"`
	Result   *result `json:"result"`
}

// result is the part of wsgate bench's JSON the table uses.
type result struct {
	MsgsPerS float64 `json:"msgs_per_s"`
	Latency  *struct {
		P99 float64 `json:"p99"` // µs
	} `json:"latency_us"`
	Storm struct {
		Opened int     `json:"opened"`
		PerS   float64 `json:"per_s"`
	} `json:"storm"`
	Steps []struct {
		Conns           int     `json:"conns"`
		HandshakesPerS  float64 `json:"handshakes_per_s"`
		RSSPerConnBytes float64 `json:"rss_per_conn_bytes"`
	} `json:"steps"`
	ClientCPUS      float64 `json:"client_cpu_s"`
	ClientSaturated bool    `json:"client_saturated"` // wsgate bench's judgement
	DurationS       float64 `json:"duration_s"`
	Server          *struct {
		CPUUSPerMsg     float64 `json:"cpu_us_per_msg"`
		MsgsPerCPUS     float64 `json:"msgs_per_cpu_s"`
		RSSPerConnBytes float64 `json:"rss_per_conn_bytes"`
	} `json:"server"`
	WholeRun struct {
		Deflate *deflateCounts `json:"deflate"` // runs with --deflate
	} `json:"whole_run"`
	Deflate *deflateCounts `json:"deflate"` // where results before whole_run kept it
}

// deflateCounts are the messages a --deflate run compressed each way.
type deflateCounts struct {
	Sent     uint64 `json:"sent"`
	Received uint64 `json:"received"`
}

// deflate returns the run's compression counts, nil without --deflate.
func (r *result) deflate() *deflateCounts {
	if r.WholeRun.Deflate != nil {
		return r.WholeRun.Deflate
	}
	return r.Deflate
}

// readRecords reads one record per line; blank lines are skipped.
func readRecords(r io.Reader) ([]record, error) {
	var recs []record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var rec record
		if err := json.Unmarshal(line, &rec); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		recs = append(recs, expandSteps(rec)...)
	}
	return recs, sc.Err()
}

// expandSteps turns an idle run with several steps (conns --steps) into
// one record per step, named "idle Nk conns". A failed run stays one
// record, named by the scenario it was given.
func expandSteps(rec record) []record {
	if rec.Kind != "idle" || rec.Result == nil || len(rec.Result.Steps) == 0 {
		return []record{rec}
	}
	var out []record
	for _, st := range rec.Result.Steps {
		r := rec
		res := *rec.Result
		res.Steps = nil
		res.Storm.Opened, res.Storm.PerS = st.Conns, st.HandshakesPerS
		if res.Server != nil {
			srv := *res.Server
			srv.RSSPerConnBytes = st.RSSPerConnBytes
			res.Server = &srv
		}
		r.Result = &res
		r.Scenario = idleName(st.Conns)
		out = append(out, r)
	}
	return out
}

// idleName is the scenario name of holding n connections: "idle 10k conns".
func idleName(n int) string {
	if n%1000 == 0 {
		return fmt.Sprintf("idle %dk conns", n/1000)
	}
	return fmt.Sprintf("idle %d conns", n)
}
