package backend

import (
	"net/http"
	"strings"
	"time"
)

// maxDeltaSeconds is the largest delta-seconds value honoured; larger
// values are treated as this one (RFC 9111, section 1.2.2).
const maxDeltaSeconds = 1 << 31

// CacheControl is what a backend reply says about caching, parsed from its
// Cache-Control and Age header fields (RFC 9111, RFC 5861). Directives other
// than those below are ignored, as is the Expires field: a backend that
// wants wsgate to cache says so with max-age or s-maxage.
//
// The zero value means "no caching information": TTL is zero, so the reply
// is not stored.
type CacheControl struct {
	MaxAge               time.Duration // max-age=N; valid when HasMaxAge
	SMaxAge              time.Duration // s-maxage=N (shared caches); valid when HasSMaxAge
	StaleWhileRevalidate time.Duration // stale-while-revalidate=N (RFC 5861)
	Age                  time.Duration // the Age field: how old the reply already is
	HasMaxAge            bool
	HasSMaxAge           bool
	NoStore              bool // no-store: never stored
	NoCache              bool // no-cache (with or without a field list): never reused without revalidation, so not stored
	Private              bool // private (with or without a field list): only for the user who asked
	MustRevalidate       bool // must-revalidate or proxy-revalidate: never served stale
}

// ParseCacheControl parses the Cache-Control and Age fields of h. Several
// Cache-Control lines are read as one comma-separated list. Directive names
// are case-insensitive; values may be tokens or quoted strings. A
// max-age or s-maxage that is not a non-negative integer counts as 0 (the
// reply is stale at once, RFC 9111, section 4.2.1); a stale-while-revalidate
// that is not one is ignored. When a directive is repeated the first one
// wins. Values above 2^31 seconds are capped there. ParseCacheControl never
// fails: garbage yields a zero CacheControl or a partial one.
func ParseCacheControl(h http.Header) CacheControl {
	var cc CacheControl
	var seenSWR bool
	for _, line := range h.Values("Cache-Control") {
		for len(line) > 0 {
			var name, value string
			name, value, line = nextDirective(line)
			switch strings.ToLower(name) {
			case "max-age":
				if !cc.HasMaxAge {
					cc.MaxAge, _ = parseDelta(value)
					cc.HasMaxAge = true
				}
			case "s-maxage":
				if !cc.HasSMaxAge {
					cc.SMaxAge, _ = parseDelta(value)
					cc.HasSMaxAge = true
				}
			case "stale-while-revalidate":
				if d, ok := parseDelta(value); ok && !seenSWR {
					cc.StaleWhileRevalidate = d
					seenSWR = true
				}
			case "no-store":
				cc.NoStore = true
			case "no-cache":
				cc.NoCache = true
			case "private":
				cc.Private = true
			case "must-revalidate", "proxy-revalidate":
				cc.MustRevalidate = true
			}
		}
	}
	if v := h.Get("Age"); v != "" {
		cc.Age, _ = parseDelta(v)
	}
	return cc
}

// TTL returns how long the reply stays fresh in wsgate's cache, zero when it
// must not be stored (no-store, no-cache, no max-age or s-maxage, or already
// too old). A private reply is kept per user, as a private cache would, so
// max-age applies to it; a shared one uses s-maxage when present, else
// max-age. The reply's Age is subtracted.
func (cc CacheControl) TTL() time.Duration {
	if cc.NoStore || cc.NoCache {
		return 0
	}
	var d time.Duration
	switch {
	case !cc.Private && cc.HasSMaxAge:
		d = cc.SMaxAge
	case cc.HasMaxAge:
		d = cc.MaxAge
	default:
		return 0
	}
	return max(d-cc.Age, 0)
}

// StaleFor returns how long after TTL the reply may still be served while
// one refresh runs: stale-while-revalidate, or zero with must-revalidate or
// when the reply is not stored at all.
func (cc CacheControl) StaleFor() time.Duration {
	if cc.MustRevalidate || cc.TTL() == 0 {
		return 0
	}
	return cc.StaleWhileRevalidate
}

// nextDirective splits the first directive off a Cache-Control list. The
// value is unquoted; rest starts after the directive's comma.
func nextDirective(s string) (name, value, rest string) {
	s = strings.TrimLeft(s, " \t,")
	i := strings.IndexAny(s, "=,")
	if i < 0 {
		return strings.TrimSpace(s), "", ""
	}
	name = strings.TrimSpace(s[:i])
	if s[i] == ',' {
		return name, "", s[i+1:]
	}
	s = strings.TrimLeft(s[i+1:], " \t")
	if strings.HasPrefix(s, `"`) {
		value, rest = unquote(s)
		return name, value, rest
	}
	j := strings.IndexByte(s, ',')
	if j < 0 {
		return name, strings.TrimSpace(s), ""
	}
	return name, strings.TrimSpace(s[:j]), s[j+1:]
}

// unquote reads a quoted-string at the start of s (RFC 9110, section
// 5.6.4) and returns its content and what follows its closing quote up to
// and past the next comma. An unterminated string runs to the end.
func unquote(s string) (value, rest string) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			rest = s[i+1:]
			if j := strings.IndexByte(rest, ','); j >= 0 {
				return b.String(), rest[j+1:]
			}
			return b.String(), ""
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ""
}

// parseDelta parses delta-seconds: one or more ASCII digits, capped at
// 2^31 seconds. ok is false for anything else.
func parseDelta(s string) (d time.Duration, ok bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < maxDeltaSeconds {
			n = n*10 + int64(c-'0')
		}
	}
	return time.Duration(min(n, maxDeltaSeconds)) * time.Second, true
}
