package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// baseline is the server every ratio is relative to.
const baseline = "wsgate"

// cell is the medians of one (scenario, server) pair.
type cell struct {
	runs, ok   int
	msgsPerS   float64 // echo: messages/s; idle: handshakes/s
	p99US      float64
	cpuUSPer   float64
	msgsPerCPU float64
	rssPerConn float64
	errs       []string
	plain      int // --deflate runs in which the server compressed nothing
	saturated  int // runs in which the load generator used 90 % or more of its cores
}

// summarize takes the medians of the successful runs in recs.
func summarize(recs []record) cell {
	var c cell
	var rate, p99, cpu, per, rss []float64
	for _, r := range recs {
		c.runs++
		if r.Error != "" || r.Result == nil {
			if r.Error != "" && !slices.Contains(c.errs, r.Error) {
				c.errs = append(c.errs, r.Error)
			}
			continue
		}
		c.ok++
		res := r.Result
		if d := res.deflate(); d != nil && d.Received == 0 {
			c.plain++
		}
		if res.ClientSaturated {
			c.saturated++
		}
		if r.Kind == "idle" {
			rate = append(rate, res.Storm.PerS)
		} else {
			rate = append(rate, res.MsgsPerS)
		}
		if res.Latency != nil {
			p99 = append(p99, res.Latency.P99)
		}
		if s := res.Server; s != nil {
			if s.MsgsPerCPUS > 0 {
				cpu = append(cpu, s.CPUUSPerMsg)
				per = append(per, s.MsgsPerCPUS)
			}
			if r.Kind == "idle" {
				rss = append(rss, s.RSSPerConnBytes)
			}
		}
	}
	c.msgsPerS, c.p99US, c.cpuUSPer, c.msgsPerCPU, c.rssPerConn = median(rate), median(p99), median(cpu), median(per), median(rss)
	return c
}

// median of xs, NaN when empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// writeTable prints one markdown table: scenarios in the order they
// first appear, servers in that order too but the baseline first.
func writeTable(w io.Writer, recs []record) error {
	var scenarios, servers []string
	kinds := map[string]string{}
	groups := map[[2]string][]record{}
	for _, r := range recs {
		if !slices.Contains(scenarios, r.Scenario) {
			scenarios = append(scenarios, r.Scenario)
			kinds[r.Scenario] = r.Kind
		}
		if !slices.Contains(servers, r.Server) {
			servers = append(servers, r.Server)
		}
		k := [2]string{r.Scenario, r.Server}
		groups[k] = append(groups[k], r)
	}
	if i := slices.Index(servers, baseline); i > 0 {
		servers = slices.Insert(slices.Delete(servers, i, i+1), 0, baseline)
	}
	var b strings.Builder
	b.WriteString("| scenario | server | msgs/s (idle: handshakes/s) | p99 | server CPU per msg | msgs per server CPU-s | idle RSS per conn | vs wsgate |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|\n")
	var notes []string
	saturated := false
	for _, sc := range scenarios {
		base := summarize(groups[[2]string{sc, baseline}])
		for _, srv := range servers {
			rs := groups[[2]string{sc, srv}]
			if len(rs) == 0 {
				continue
			}
			c := summarize(rs)
			name := srv
			if c.ok < c.runs {
				name += fmt.Sprintf(" (%d/%d ok)", c.ok, c.runs)
				for _, e := range c.errs {
					notes = append(notes, fmt.Sprintf("failed: %s, %s: %s", sc, srv, e))
				}
			}
			if c.plain > 0 {
				notes = append(notes, fmt.Sprintf("not compressed: %s, %s: the server sent no compressed message in %d of %d runs", sc, srv, c.plain, c.ok))
			}
			p99 := dur(c.p99US)
			if c.saturated > 0 && !math.IsNaN(c.p99US) {
				p99 += " †"
				saturated = true
			}
			ratio := "–"
			if kinds[sc] == "idle" {
				ratio = times(c.rssPerConn / base.rssPerConn)
			} else {
				ratio = times(c.msgsPerCPU / base.msgsPerCPU)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", sc, name,
				count(c.msgsPerS), p99, micros(c.cpuUSPer), count(c.msgsPerCPU), bytesPer(c.rssPerConn), ratio)
		}
	}
	b.WriteString("\nvs wsgate: echo and fan-out rows divide the server's messages (fan-out: deliveries) per CPU-second by wsgate's (above 1: more efficient than wsgate); idle rows divide RSS growth per connection by wsgate's (above 1: more memory than wsgate). Medians of the runs.\n")
	if saturated {
		b.WriteString("\n† The load generator used 90 % or more of its cores in at least one of the runs: replies waited in its sockets for it to read them, so that p99 measures its queue as much as the server's. The CPU columns still compare the servers.\n")
	}
	for _, n := range notes {
		b.WriteString("\n- " + n)
	}
	if len(notes) > 0 {
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func times(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	return strconv.FormatFloat(x, 'f', 2, 64) + "×"
}

// count formats a rate with thousands separators.
func count(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	s := strconv.FormatInt(int64(math.Round(x)), 10)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// dur formats microseconds as µs or ms.
func dur(us float64) string {
	switch {
	case math.IsNaN(us):
		return "–"
	case us < 1000:
		return strconv.FormatFloat(us, 'f', 0, 64) + " µs"
	}
	return strconv.FormatFloat(us/1000, 'f', 2, 64) + " ms"
}

func micros(us float64) string {
	if math.IsNaN(us) {
		return "–"
	}
	return strconv.FormatFloat(us, 'f', 2, 64) + " µs"
}

func bytesPer(b float64) string {
	if math.IsNaN(b) {
		return "–"
	}
	if b >= 10<<10 {
		return strconv.FormatFloat(b/1024, 'f', 1, 64) + " KiB"
	}
	return count(b) + " B"
}
