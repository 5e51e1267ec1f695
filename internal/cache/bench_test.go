package cache

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"
)

var benchArgs = []struct {
	name string
	args string
}{
	{"no-args", ``},
	{"sorted", `{"points":500,"symbol":"ACME"}`},
	{"unsorted", `{"symbol":"ACME","points":500}`},
	{"nested", `{"symbol":"ACME","range":{"to":"2026-01-02","from":"2026-01-01"},"fields":["o","h","l","c"]}`},
}

// BenchmarkGetHit measures a hit: key canonicalisation, lookup, clock read
// and counters. The "map" peer is the least a cache can do: a key built by
// concatenation (no canonicalisation) and a map under an RWMutex.
func BenchmarkGetHit(b *testing.B) {
	ctx := context.Background()
	l := &counter{res: Result{TTL: time.Hour}}
	load := LoadFunc(l.load) // once: a method value made per call would allocate
	for _, a := range benchArgs {
		r := Request{Method: "market.history", Args: []byte(a.args)}
		b.Run(a.name, func(b *testing.B) {
			c := newRealCache(b)
			if _, _, err := c.Get(ctx, r, load); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				if _, src, _ := c.Get(ctx, r, load); src != Hit {
					b.Fatal(src)
				}
			}
		})
		b.Run(a.name+"/user", func(b *testing.B) {
			c := newRealCache(b)
			r := r
			r.User = "alice"
			if _, _, err := c.Get(ctx, r, load); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				if _, src, _ := c.Get(ctx, r, load); src != Hit {
					b.Fatal(src)
				}
			}
		})
		b.Run(a.name+"/map", func(b *testing.B) {
			var mu sync.RWMutex
			m := map[string][]byte{r.Method + "\x00" + string(r.Args): []byte(`1`)}
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				k := r.Method + "\x00" + string(r.Args)
				mu.RLock()
				v := m[k]
				mu.RUnlock()
				if v == nil {
					b.Fatal("miss")
				}
			}
		})
	}
}

// BenchmarkGetHitParallel runs hits on every core, on one hot key.
func BenchmarkGetHitParallel(b *testing.B) {
	ctx := context.Background()
	l := &counter{res: Result{TTL: time.Hour}}
	load := LoadFunc(l.load)
	c := newRealCache(b)
	r := Request{Method: "market.history", Args: []byte(`{"symbol":"ACME","points":500}`)}
	if _, _, err := c.Get(ctx, r, load); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, src, _ := c.Get(ctx, r, load); src != Hit {
				b.Error(src)
				return
			}
		}
	})
}

// BenchmarkAppendCanonical against its encoding/json equivalent: decode
// into any (numbers kept as written) and encode (map keys sorted).
func BenchmarkAppendCanonical(b *testing.B) {
	for _, a := range benchArgs[1:] {
		src := []byte(a.args)
		b.Run(a.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			dst := make([]byte, 0, 256)
			defer reportCPU(b)()
			for b.Loop() {
				var err error
				if dst, err = AppendCanonical(dst[:0], src); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(a.name+"/reused", func(b *testing.B) { // as Get builds keys: scratch space reused
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			dst := make([]byte, 0, 256)
			members := make([]member, 0, 32)
			defer reportCPU(b)()
			for b.Loop() {
				var err error
				if dst, members, err = appendCanonical(dst[:0], src, members); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(a.name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			defer reportCPU(b)()
			for b.Loop() {
				var v any
				d := json.NewDecoder(bytes.NewReader(src))
				d.UseNumber()
				if err := d.Decode(&v); err != nil {
					b.Fatal(err)
				}
				if _, err := json.Marshal(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// newRealCache returns a cache on the default clock, as in production.
func newRealCache(b *testing.B) *Cache {
	c, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	return c
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

// BenchmarkFresh measures the hit path a session takes on its reader:
// Fresh, which builds the key without allocating.
func BenchmarkFresh(b *testing.B) {
	ctx := context.Background()
	l := &counter{res: Result{TTL: time.Hour}}
	load := LoadFunc(l.load)
	for _, a := range benchArgs {
		r := Request{Method: "market.history", Args: []byte(a.args)}
		b.Run(a.name, func(b *testing.B) {
			c := newRealCache(b)
			if _, _, err := c.Get(ctx, r, load); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if c.Fresh(r) == nil {
					b.Fatal("miss")
				}
			}
		})
	}
}
