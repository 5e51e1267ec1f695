package backend

import (
	"net/http"
	"testing"
	"time"
)

func TestParseCacheControl(t *testing.T) {
	t.Parallel()
	const s = time.Second
	tests := []struct {
		name       string
		header     []string // Cache-Control lines
		age        string
		want       CacheControl
		ttl, stale time.Duration
	}{
		{"none", nil, "", CacheControl{}, 0, 0},
		{"max-age", []string{"max-age=60"}, "", CacheControl{MaxAge: 60 * s, HasMaxAge: true}, 60 * s, 0},
		{"s-maxage wins when shared", []string{"max-age=60, s-maxage=10"}, "", CacheControl{MaxAge: 60 * s, SMaxAge: 10 * s, HasMaxAge: true, HasSMaxAge: true}, 10 * s, 0},
		{"s-maxage alone", []string{"public, s-maxage=5"}, "", CacheControl{SMaxAge: 5 * s, HasSMaxAge: true}, 5 * s, 0},
		{"private uses max-age", []string{"private, max-age=60, s-maxage=10"}, "", CacheControl{MaxAge: 60 * s, SMaxAge: 10 * s, HasMaxAge: true, HasSMaxAge: true, Private: true}, 60 * s, 0},
		{"private field list", []string{`private="Set-Cookie", max-age=3`}, "", CacheControl{MaxAge: 3 * s, HasMaxAge: true, Private: true}, 3 * s, 0},
		{"swr", []string{"max-age=1, stale-while-revalidate=30"}, "", CacheControl{MaxAge: s, HasMaxAge: true, StaleWhileRevalidate: 30 * s}, s, 30 * s},
		{"swr without max-age", []string{"stale-while-revalidate=30"}, "", CacheControl{StaleWhileRevalidate: 30 * s}, 0, 0},
		{"must-revalidate blocks stale", []string{"max-age=1, stale-while-revalidate=30, must-revalidate"}, "", CacheControl{MaxAge: s, HasMaxAge: true, StaleWhileRevalidate: 30 * s, MustRevalidate: true}, s, 0},
		{"no-store", []string{"no-store, max-age=60"}, "", CacheControl{MaxAge: 60 * s, HasMaxAge: true, NoStore: true}, 0, 0},
		{"no-cache", []string{"max-age=60,no-cache"}, "", CacheControl{MaxAge: 60 * s, HasMaxAge: true, NoCache: true}, 0, 0},
		{"no-cache field list", []string{`no-cache="a, b", max-age=60`}, "", CacheControl{MaxAge: 60 * s, HasMaxAge: true, NoCache: true}, 0, 0},
		{"case and spaces", []string{"  MAX-AGE = 7 ,Private"}, "", CacheControl{MaxAge: 7 * s, HasMaxAge: true, Private: true}, 7 * s, 0},
		{"quoted value", []string{`max-age="9"`}, "", CacheControl{MaxAge: 9 * s, HasMaxAge: true}, 9 * s, 0},
		{"first wins", []string{"max-age=5", "max-age=50"}, "", CacheControl{MaxAge: 5 * s, HasMaxAge: true}, 5 * s, 0},
		{"invalid max-age is stale", []string{"max-age=-1"}, "", CacheControl{HasMaxAge: true}, 0, 0},
		{"invalid max-age text", []string{"max-age=ten"}, "", CacheControl{HasMaxAge: true}, 0, 0},
		{"huge max-age capped", []string{"max-age=99999999999999999999999"}, "", CacheControl{MaxAge: (1 << 31) * s, HasMaxAge: true}, (1 << 31) * s, 0},
		{"age subtracted", []string{"max-age=60"}, "45", CacheControl{MaxAge: 60 * s, HasMaxAge: true, Age: 45 * s}, 15 * s, 0},
		{"too old", []string{"max-age=60, stale-while-revalidate=10"}, "61", CacheControl{MaxAge: 60 * s, HasMaxAge: true, Age: 61 * s, StaleWhileRevalidate: 10 * s}, 0, 0},
		{"bad age ignored", []string{"max-age=60"}, "soon", CacheControl{MaxAge: 60 * s, HasMaxAge: true}, 60 * s, 0},
		{"garbage", []string{`,,=,"max-age=5", =3, max-age`}, "", CacheControl{HasMaxAge: true}, 0, 0},
		{"unterminated quote", []string{`no-cache="abc, max-age=5`}, "", CacheControl{NoCache: true}, 0, 0},
		{"unknown directives", []string{"immutable, foo=bar, max-age=2"}, "", CacheControl{MaxAge: 2 * s, HasMaxAge: true}, 2 * s, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for _, v := range tt.header {
				h.Add("Cache-Control", v)
			}
			if tt.age != "" {
				h.Set("Age", tt.age)
			}
			got := ParseCacheControl(h)
			if got != tt.want {
				t.Errorf("ParseCacheControl(%q)\n got %+v\nwant %+v", tt.header, got, tt.want)
			}
			if d := got.TTL(); d != tt.ttl {
				t.Errorf("TTL %v, want %v", d, tt.ttl)
			}
			if d := got.StaleFor(); d != tt.stale {
				t.Errorf("StaleFor %v, want %v", d, tt.stale)
			}
		})
	}
}
