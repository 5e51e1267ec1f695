package client

import (
	"slices"
	"time"
)

// probeResult is what probing one node found: the round-trip times of
// the probes that succeeded, and what the node said of itself.
type probeResult struct {
	URL      string          // the node's base URL, its identity here
	ID       string          // the node's id, when its /edge/ping said it
	Region   string          // the node's region, when the list or its /edge/ping said it
	RTTs     []time.Duration // one per successful probe, in any order
	Conns    int             // connections the node reported (0 when unknown)
	Draining bool            // the node said it takes no new connections
}

// margins say when one node is clearly nearer than another: by at least
// Abs and by at least Ratio of the other's median RTT. Both must hold, so
// neither tiny differences between near nodes (a few ms) nor noise on far
// ones (a few percent) move a client.
type margins struct {
	Abs   time.Duration
	Ratio float64 // 0 to 1
}

// median returns the median of rtts (the lower middle one for an even
// count) and false when rtts is empty. rtts is not modified.
func median(rtts []time.Duration) (time.Duration, bool) {
	if len(rtts) == 0 {
		return 0, false
	}
	s := slices.Clone(rtts)
	slices.Sort(s)
	return s[(len(s)-1)/2], true
}

// clearlyBetter reports whether a node with median RTT cand is clearly
// nearer than one with cur, by both margins.
func clearlyBetter(cand, cur time.Duration, m margins) bool {
	return cur-cand >= m.Abs && float64(cand) <= float64(cur)*(1-m.Ratio)
}

// rank orders the nodes a client may connect to, best first. A draining
// node is left out. Nodes that answered probes come first: repeatedly, of
// the nodes left, those the fastest is not clearly better than are taken
// as equals and the one with the fewest connections goes next (then the
// lower median, then the URL, so the order is deterministic). Nodes that
// answered no probe follow in their input order: a probe may fail where
// the WebSocket would not, so they are still worth a try.
func rank(results []probeResult, m margins) []probeResult {
	type scored struct {
		probeResult
		med time.Duration
	}
	var answered []scored
	var silent []probeResult
	for _, r := range results {
		if r.Draining {
			continue
		}
		if med, ok := median(r.RTTs); ok {
			answered = append(answered, scored{r, med})
		} else {
			silent = append(silent, r)
		}
	}
	out := make([]probeResult, 0, len(answered)+len(silent))
	for len(answered) > 0 {
		fastest := answered[0].med
		for _, s := range answered[1:] {
			fastest = min(fastest, s.med)
		}
		best := -1
		for i, s := range answered {
			if clearlyBetter(fastest, s.med, m) {
				continue // not an equal of the fastest
			}
			if best < 0 || less(s.Conns, s.med, s.URL, answered[best].Conns, answered[best].med, answered[best].URL) {
				best = i
			}
		}
		out = append(out, answered[best].probeResult)
		answered = slices.Delete(answered, best, best+1)
	}
	return append(out, silent...)
}

// less orders equals: fewer connections, then lower median, then URL.
func less(connsA int, medA time.Duration, urlA string, connsB int, medB time.Duration, urlB string) bool {
	if connsA != connsB {
		return connsA < connsB
	}
	if medA != medB {
		return medA < medB
	}
	return urlA < urlB
}

// choose returns the node to use from a ranking (rank's output) given the
// node in use now, current ("" for none): current stays unless it is gone
// from the ranking, answered no probe, or the best node is clearly nearer
// (by m). That hysteresis is what keeps clients from flapping between
// nodes of similar latency. It returns "" for an empty ranking.
func choose(ranked []probeResult, current string, m margins) string {
	if len(ranked) == 0 {
		return ""
	}
	best := ranked[0]
	bestMed, ok := median(best.RTTs)
	if !ok || current == "" || current == best.URL {
		return best.URL
	}
	for _, r := range ranked {
		if r.URL != current {
			continue
		}
		curMed, ok := median(r.RTTs)
		if !ok || clearlyBetter(bestMed, curMed, m) {
			return best.URL
		}
		return current
	}
	return best.URL
}

// order returns the URLs of ranked with chosen first, then the others in
// rank order: the order in which a client tries nodes.
func order(ranked []probeResult, chosen string) []string {
	urls := make([]string, 0, len(ranked))
	if chosen != "" {
		urls = append(urls, chosen)
	}
	for _, r := range ranked {
		if r.URL != chosen {
			urls = append(urls, r.URL)
		}
	}
	return urls
}
