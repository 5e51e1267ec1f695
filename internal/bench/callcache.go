package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wsgate/wsgate/internal/promtext"
)

// This file is what "wsgate bench call" knows about wsgate's response
// cache: calls made to miss on purpose (--miss-ratio) and the cache's
// counters read from the target's /metrics around the measured window.

// CacheResult is the target's cache counters over the measured window,
// read from its /metrics (wsgate_cache_*_total).
type CacheResult struct {
	Hits      uint64  `json:"hits"`      // fresh cached results
	StaleHits uint64  `json:"stale"`     // stale results served while one refresh ran
	Misses    uint64  `json:"misses"`    // calls that ran the backend
	Coalesced uint64  `json:"coalesced"` // calls that waited for an identical one
	HitRatio  float64 `json:"hit_ratio"` // (Hits + StaleHits) / all four
}

// cacheCounters are the wsgate_cache_* counters of one scrape.
type cacheCounters struct {
	hits, stale, misses, coalesced uint64
}

// cacheMetrics maps metric names to the counter each fills.
var cacheMetrics = map[string]func(*cacheCounters) *uint64{
	"wsgate_cache_hits_total":       func(c *cacheCounters) *uint64 { return &c.hits },
	"wsgate_cache_stale_hits_total": func(c *cacheCounters) *uint64 { return &c.stale },
	"wsgate_cache_misses_total":     func(c *cacheCounters) *uint64 { return &c.misses },
	"wsgate_cache_coalesced_total":  func(c *cacheCounters) *uint64 { return &c.coalesced },
}

// parseCacheCounters reads the cache counters from a Prometheus text
// exposition. It fails when the hit and miss counters are both absent:
// the target is not a wsgate with a cache.
func parseCacheCounters(r io.Reader) (cacheCounters, error) {
	var c cacheCounters
	samples, err := promtext.Parse(r)
	if err != nil {
		return c, fmt.Errorf("bench: metrics: %w", err)
	}
	found := 0
	for name, field := range cacheMetrics {
		v, ok := samples[name]
		if !ok {
			continue
		}
		if !(v >= 0) {
			return c, fmt.Errorf("bench: metrics: %s: bad value %v", name, v)
		}
		*field(&c) = uint64(v)
		found++
	}
	if c.hits == 0 && c.misses == 0 && found < 2 {
		return c, fmt.Errorf("bench: metrics: no wsgate_cache_hits_total and wsgate_cache_misses_total")
	}
	return c, nil
}

// delta is the window's CacheResult from scrapes before (c0) and after (c).
func (c cacheCounters) delta(c0 cacheCounters) *CacheResult {
	d := &CacheResult{
		Hits:      c.hits - c0.hits,
		StaleHits: c.stale - c0.stale,
		Misses:    c.misses - c0.misses,
		Coalesced: c.coalesced - c0.coalesced,
	}
	if all := d.Hits + d.StaleHits + d.Misses + d.Coalesced; all > 0 {
		d.HitRatio = float64(d.Hits+d.StaleHits) / float64(all)
	}
	return d
}

// defaultMetricsURL is the /metrics of the server behind a ws:// or wss://
// target: same host and port, http or https.
func defaultMetricsURL(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return ""
	}
	scheme := "http"
	if u.Scheme == "wss" {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: u.Host, Path: "/metrics"}).String()
}

// scrapeCache reads the cache counters from metricsURL, within 2s.
func scrapeCache(ctx context.Context, metricsURL string) (cacheCounters, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return cacheCounters{}, fmt.Errorf("bench: metrics: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return cacheCounters{}, fmt.Errorf("bench: metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return cacheCounters{}, fmt.Errorf("bench: metrics: %s: %s", metricsURL, resp.Status)
	}
	return parseCacheCounters(io.LimitReader(resp.Body, 16<<20))
}

// argsWithNonce returns args with a "nonce" member n added in front, so
// that the call's cache key is new and the call misses: {"nonce":n,…}.
// args is a JSON object or empty (no args); parseArgs checks that.
func argsWithNonce(dst, args []byte, n uint64) []byte {
	dst = append(dst, `{"nonce":`...)
	dst = strconv.AppendUint(dst, n, 10)
	if len(args) == 0 {
		return append(dst, '}')
	}
	rest := strings.TrimSpace(string(args))[1:] // after '{'
	if strings.TrimSpace(rest) != "}" {
		dst = append(dst, ',')
	}
	return append(dst, rest...)
}
