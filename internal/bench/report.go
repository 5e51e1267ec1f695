package bench

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/wsgate/wsgate/ws/wsflate"
)

// Result is what one run measured. --json prints it as one object; the
// field comments give the units. Every figure belongs to one of two
// windows: the top-level ones to the measured window (DurationS), those
// of WholeRun (JSON "whole_run") to the whole run, warm-up included.
type Result struct {
	Command   string  `json:"command"`
	URL       string  `json:"url"`
	Conns     int     `json:"conns"`                // connections asked for (fanout: subscribers)
	Size      int     `json:"size,omitempty"`       // echo: payload bytes; fanout: padding bytes
	Payload   string  `json:"payload,omitempty"`    // echo: binary, text or json
	Text      bool    `json:"text,omitempty"`       // echo: text messages (text and json)
	Inflight  int     `json:"inflight,omitempty"`   // echo, call: in flight per connection
	WriteEach bool    `json:"write_each,omitempty"` // echo, call: one write per message (--write-each)
	Method    string  `json:"method,omitempty"`     // call
	Channel   string  `json:"channel,omitempty"`    // fanout; pub: the channels' prefix
	Channels  int     `json:"channels,omitempty"`   // pub: channels the pubs went to, in turn
	WarmupS   float64 `json:"warmup_s"`             // seconds of warmup (conns: settle time)
	DurationS float64 `json:"duration_s"`           // seconds the measured window lasted

	Msgs     int64       `json:"msgs"`                 // echoes, replies or deliveries
	MsgsPerS float64     `json:"msgs_per_s"`           // Msgs / DurationS
	Latency  *LatencyUS  `json:"latency_us,omitempty"` // round trip (fanout: publish to delivery)
	Storm    StormResult `json:"storm"`                // how the connections were opened

	MissRatio  float64      `json:"miss_ratio,omitempty"`     // call: fraction of calls sent to miss (--miss-ratio)
	HitLatency *LatencyUS   `json:"hit_latency_us,omitempty"` // call with --miss-ratio: calls sent without a nonce only
	Cache      *CacheResult `json:"cache,omitempty"`          // call: the target's cache counters over the window
	CacheError string       `json:"cache_error,omitempty"`    // call: why Cache is missing
	Published  int64        `json:"published,omitempty"`      // fanout: publications sent in the window
	PubPerS    float64      `json:"pub_per_s,omitempty"`      // fanout: Published / DurationS
	Lost       int64        `json:"lost,omitempty"`           // conns: connections the server dropped while held
	Steps      []StepResult `json:"steps,omitempty"`          // conns: each of --steps, then --conns
	// Failover: clients moved and publications checked; its top-level
	// window (DurationS) runs from the moment every subscriber received
	// publications to the end.
	Failover *FailoverResult `json:"failover,omitempty"`
	// Drop: fanout's drop mode (--drop-every); its top-level window runs
	// from the moment every subscriber received publications to the end
	// of the last drop.
	Drop *DropResult `json:"drop,omitempty"`

	ClientCPUS  float64 `json:"client_cpu_s"` // this process's user+sys seconds in the window
	ClientCores int     `json:"client_cores"` // the cores this process could use (GOMAXPROCS)
	// ClientSaturated says this process used 90 % or more of its cores
	// in the window (clientSaturated): replies then wait for it to read
	// them, and the latency includes its own queue.
	ClientSaturated bool          `json:"client_saturated,omitempty"`
	Server          *ServerResult `json:"server,omitempty"` // with --server-pid: the first
	// Servers are all of them, when --server-pid names one per target;
	// each one's messages are its share of the connections.
	Servers []ServerResult `json:"servers,omitempty"`

	WholeRun `json:"whole_run"`
}

// WholeRun holds the counts of a whole run, warm-up included: what
// must be checked on every message (replies verified, error codes,
// missed deliveries, errors), not only on those of the measured window.
type WholeRun struct {
	Seconds    float64          `json:"seconds"`              // warm-up and measured window
	Verified   int64            `json:"verified,omitempty"`   // echo: replies equal to what was sent
	Mismatched int64            `json:"mismatched,omitempty"` // echo: replies that differed
	Codes      map[string]int64 `json:"codes,omitempty"`      // call: replies by error code ("ok" for results); fanout: publish replies
	Gaps       int64            `json:"gaps,omitempty"`       // fanout: deliveries missed (seq holes)
	Errors     map[string]int64 `json:"errors,omitempty"`     // by kind
	Deflate    *DeflateResult   `json:"deflate,omitempty"`    // with --deflate
}

// DeflateResult shows that permessage-deflate was used both ways: counts
// over the whole run, warm-up and shutdown included.
type DeflateResult struct {
	Sent     uint64  `json:"sent"`     // messages this client sent compressed
	Ratio    float64 `json:"ratio"`    // their plain bytes / their compressed bytes
	Received uint64  `json:"received"` // compressed messages from the server, inflated
}

// deflateResult turns the client Codec's counters into a DeflateResult.
func deflateResult(st wsflate.Stats) *DeflateResult {
	d := &DeflateResult{Sent: st.Compressed, Received: st.Inflations}
	if st.BytesOut > 0 {
		d.Ratio = float64(st.BytesIn) / float64(st.BytesOut)
	}
	return d
}

// LatencyUS is a latency Summary in microseconds.
type LatencyUS struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

func latencyUS(s Summary) *LatencyUS {
	if s.Count == 0 {
		return nil
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	return &LatencyUS{Mean: us(s.Mean), P50: us(s.P50), P90: us(s.P90), P99: us(s.P99), P999: us(s.P999), Max: us(s.Max)}
}

// StepResult is the server's state once a conns run held Conns
// connections and let them settle.
type StepResult struct {
	Conns           int     `json:"conns"`
	HandshakesPerS  float64 `json:"handshakes_per_s"`             // of the storm from the previous step
	RSSBytes        int64   `json:"rss_bytes,omitempty"`          // with --server-pid
	RSSPerConnBytes float64 `json:"rss_per_conn_bytes,omitempty"` // growth from before the first connection
}

// StormResult describes the connection storm.
type StormResult struct {
	Opened     int        `json:"opened"`
	Seconds    float64    `json:"seconds"`
	PerS       float64    `json:"per_s"`                // handshakes per second
	HandshakeL *LatencyUS `json:"latency_us,omitempty"` // connect plus handshake
}

// ServerResult is the server process's share: CPU over the measured
// window and memory.
type ServerResult struct {
	PID         int     `json:"pid"`
	CPUS        float64 `json:"cpu_s"`  // user+sys seconds in the window (10 ms resolution)
	UserS       float64 `json:"user_s"` //
	SysS        float64 `json:"sys_s"`  //
	CPUUSPerMsg float64 `json:"cpu_us_per_msg,omitempty"`
	MsgsPerCPUS float64 `json:"msgs_per_cpu_s,omitempty"`
	RSSBytes    int64   `json:"rss_bytes"` // at the end of the window
	// conns only: RSS before the first connection and the growth per
	// connection held, (RSSBytes - RSSBeforeBytes) / opened.
	RSSBeforeBytes  int64   `json:"rss_before_bytes,omitempty"`
	RSSPerConnBytes float64 `json:"rss_per_conn_bytes,omitempty"`
}

// result fills in the fields every subcommand shares, from the storm,
// the window and the window's latency summary msgs.
func (r *runner) result(st storm, w window, msgs Summary) *Result {
	o := r.o
	res := &Result{
		Command:     o.Cmd.String(),
		URL:         o.URL,
		Conns:       o.Conns,
		WriteEach:   o.WriteEach,
		WarmupS:     w.WarmupElapsed.Seconds(),
		DurationS:   w.Elapsed.Seconds(),
		Msgs:        msgs.Count,
		MsgsPerS:    perSecond(msgs.Count, w.Elapsed),
		Latency:     latencyUS(msgs),
		Storm:       StormResult{Opened: st.Opened, Seconds: st.Elapsed.Seconds(), PerS: st.PerSecond(), HandshakeL: latencyUS(st.Handshake)},
		ClientCPUS:  w.ClientCPU.Seconds(),
		ClientCores: runtime.GOMAXPROCS(0),
		WholeRun:    WholeRun{Seconds: (w.WarmupElapsed + w.Elapsed).Seconds()},
	}
	res.ClientSaturated = clientSaturated(res.ClientCPUS, res.DurationS, res.ClientCores)
	for i, s := range w.Servers {
		cpu := s.User + s.Sys
		sr := ServerResult{PID: s.PID, CPUS: cpu.Seconds(), UserS: s.User.Seconds(), SysS: s.Sys.Seconds(), RSSBytes: s.RSS}
		// Each server's share of the messages is its share of the
		// connections: connection c goes to target c % len(targets).
		n := len(w.Servers)
		share := float64(o.Conns / n)
		if i < o.Conns%n {
			share++
		}
		if m := float64(msgs.Count) * share / float64(o.Conns); m > 0 && cpu > 0 {
			sr.CPUUSPerMsg = float64(cpu) / float64(time.Microsecond) / m
			sr.MsgsPerCPUS = m / cpu.Seconds()
		}
		res.Servers = append(res.Servers, sr)
	}
	if len(res.Servers) > 0 {
		res.Server = &res.Servers[0] // shared: what conns adds to it shows in both
	}
	if len(res.Servers) == 1 {
		res.Servers = nil
	}
	return res
}

// writeJSON prints res as one JSON object and a newline.
func (res *Result) writeJSON(w io.Writer) error {
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// writeText prints res for a person: how the run went, then the figures
// of the measured window, then the counts of the whole run, each group
// under a heading that says which window it covers.
func (res *Result) writeText(w io.Writer) error {
	if res.Failover != nil {
		return res.writeFailoverText(w)
	}
	if res.Drop != nil {
		return res.writeDropText(w)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", res.Command, res.URL)
	indent := "  "
	row := func(name, format string, args ...any) {
		fmt.Fprintf(&b, "%s%-11s "+format+"\n", append([]any{indent, name}, args...)...)
	}
	switch res.Command {
	case "echo":
		row("load", "%s conns × %s B %s, %s", commas(int64(res.Conns)), commas(int64(res.Size)), res.Payload, inflightText(res.Inflight, res.WriteEach))
	case "call":
		row("load", "%s conns × %s, %s", commas(int64(res.Conns)), res.Method, inflightText(res.Inflight, res.WriteEach))
	case "pub":
		row("load", "%s conns × pubs of %s B padding over %s channels, %s", commas(int64(res.Conns)), commas(int64(res.Size)), commas(int64(res.Channels)), inflightText(res.Inflight, res.WriteEach))
	case "fanout":
		row("load", "%s subscribers on %q, %s publications/s", commas(int64(res.Conns)), res.Channel, commas(int64(res.PubPerS+0.5)))
	}
	st := res.Storm
	hs := ""
	if st.HandshakeL != nil {
		hs = fmt.Sprintf(" (handshake p50 %s, p99 %s)", fmtUS(st.HandshakeL.P50), fmtUS(st.HandshakeL.P99))
	}
	row("connected", "%s in %.2fs = %s handshakes/s%s", commas(int64(st.Opened)), st.Seconds, commas(int64(st.PerS+0.5)), hs)

	fmt.Fprintf(&b, "  measured %.1fs, after %.1fs of warm-up:\n", res.DurationS, res.WarmupS)
	indent = "    "
	if res.Command == "conns" {
		row("held", "%s connections, %s dropped by the server", commas(int64(st.Opened)), commas(res.Lost))
		if len(res.Steps) > 1 {
			for _, s := range res.Steps {
				line := fmt.Sprintf("%s conns: %s handshakes/s", commas(int64(s.Conns)), commas(int64(s.HandshakesPerS+0.5)))
				if s.RSSBytes > 0 {
					line += fmt.Sprintf(", server RSS %s = %.0f B per connection", fmtBytes(s.RSSBytes), s.RSSPerConnBytes)
				}
				row("step", "%s", line)
			}
		}
	} else {
		row("messages", "%s (%s/s)", commas(res.Msgs), commas(int64(res.MsgsPerS+0.5)))
	}
	if l := res.Latency; l != nil {
		row("latency", "p50 %s  p99 %s  p99.9 %s  max %s", fmtUS(l.P50), fmtUS(l.P99), fmtUS(l.P999), fmtUS(l.Max))
	}
	if l := res.HitLatency; l != nil {
		row("hits only", "p50 %s  p99 %s  p99.9 %s  max %s (calls sent without a nonce)", fmtUS(l.P50), fmtUS(l.P99), fmtUS(l.P999), fmtUS(l.Max))
	}
	if res.Command == "fanout" {
		row("published", "%s (%s/s)", commas(res.Published), commas(int64(res.PubPerS+0.5)))
	}
	if res.Command == "call" {
		if c := res.Cache; c != nil {
			row("cache", "hit ratio %.1f %%: %s hits, %s stale, %s misses, %s coalesced (server's counters; %.0f %% sent to miss)",
				100*c.HitRatio, commas(int64(c.Hits)), commas(int64(c.StaleHits)), commas(int64(c.Misses)), commas(int64(c.Coalesced)), 100*res.MissRatio)
		} else {
			row("cache", "hit ratio: n/a (%s)", res.CacheError)
		}
	}
	servers := res.Servers
	if len(servers) == 0 && res.Server != nil {
		servers = []ServerResult{*res.Server}
	}
	for _, s := range servers {
		line := fmt.Sprintf("pid %d: CPU %.2fs (user %.2f + sys %.2f)", s.PID, s.CPUS, s.UserS, s.SysS)
		if s.MsgsPerCPUS > 0 {
			line += fmt.Sprintf(" = %.2f µs/msg, %s msgs per CPU-second", s.CPUUSPerMsg, commas(int64(s.MsgsPerCPUS+0.5)))
		}
		line += "; RSS " + fmtBytes(s.RSSBytes)
		if s.RSSBeforeBytes > 0 {
			line += fmt.Sprintf(" (from %s: %.0f B per connection)", fmtBytes(s.RSSBeforeBytes), s.RSSPerConnBytes)
		}
		row("server", "%s", line)
	}
	row("client CPU", "%.2fs%s", res.ClientCPUS, saturatedNote(res))

	fmt.Fprintf(&b, "  whole run %.1fs, warm-up included:\n", res.WholeRun.Seconds)
	indent = "    "
	if res.Command == "echo" {
		row("verified", "%s replies byte for byte, %s differed", commas(res.Verified), commas(res.Mismatched))
	}
	if res.Command == "fanout" {
		row("missed", "%s deliveries (holes in seq)", commas(res.Gaps))
	}
	if len(res.Codes) > 0 {
		row("codes", "%s", countsText(res.Codes))
	}
	if d := res.Deflate; d != nil {
		row("deflate", "%s sent compressed (%.1fx), %s compressed from the server", commas(int64(d.Sent)), d.Ratio, commas(int64(d.Received)))
	}
	row("errors", "%s", errorsText(res.Errors))
	_, err := io.WriteString(w, b.String())
	return err
}

// inflightText describes the load of one connection: "closed loop",
// "8 in flight per connection", and with writeEach "…, one write per
// message".
func inflightText(k int, writeEach bool) string {
	s := "closed loop"
	if k > 1 {
		s = fmt.Sprintf("%d in flight per connection", k)
	}
	if writeEach {
		s += ", one write per message"
	}
	return s
}

// errorsText is countsText of a run's errors, or "none".
func errorsText(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	return countsText(m)
}

// countsText lists counts by name, largest first.
func countsText(m map[string]int64) string {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(m[b], m[a]) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + commas(m[k])
	}
	return strings.Join(parts, ", ")
}

func fmtUS(us float64) string { return fmtDur(time.Duration(us * float64(time.Microsecond))) }

// fmtBytes formats n in KiB or MiB with one decimal.
func fmtBytes(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// saturatedNote says when the load generator used 90 % or more of the
// cores it had in the window: then replies wait in its own sockets for
// it to read them, and the latency measures its queue as much as the
// server's.
func saturatedNote(res *Result) string {
	if !res.ClientSaturated {
		return ""
	}
	return fmt.Sprintf(" (saturated: 90 %% or more of its %d core(s); replies waited for this client to read them, so the latency includes its own queue: add cores or lower the load)", res.ClientCores)
}

// clientSaturated reports whether cpuS seconds of CPU in a window of
// windowS seconds are 90 % or more of cores cores.
func clientSaturated(cpuS, windowS float64, cores int) bool {
	if cores <= 0 || windowS <= 0 {
		return false
	}
	return cpuS >= 0.9*windowS*float64(cores)
}
