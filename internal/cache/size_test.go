package cache

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/wsgate/wsgate/ws/wsflate"
)

// TestSizeBound floods the cache with unique keys, many times its bound,
// and checks both its own accounting and the heap. It is not parallel:
// other tests allocating at the same time would blur the heap figures.
func TestSizeBound(t *testing.T) {
	const (
		maxBytes = 4 << 20
		value    = 1 << 10
		keys     = 40_000 // 40 MiB of values through a 4 MiB cache
	)
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	c, _ := newCache(t, Config{MaxBytes: maxBytes})
	v := bytes.Repeat([]byte("x"), value-2)
	load := func(_ context.Context, r Request) (Result, error) {
		b := make([]byte, 0, value)
		b = append(append(append(b, '"'), v...), '"')
		return Result{Value: b, TTL: time.Hour}, nil
	}
	var args []byte
	for i := range keys {
		args = fmt.Appendf(args[:0], `{"i":%d}`, i)
		if _, _, err := c.Get(context.Background(), Request{Method: "flood", Args: args}, load); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 999 {
			if b := c.Stats().Bytes; b > maxBytes*11/10 {
				t.Fatalf("after %d keys the cache holds %d bytes, bound %d", i+1, b, maxBytes)
			}
		}
	}
	c.store.CleanUp()
	s := c.Stats()
	after := heap()
	grown := int64(after) - int64(before)
	t.Logf("%d keys of %d B through a %d B cache: %d entries, %d B by weight, %d evictions, heap grew %d B (%.0f B per entry)",
		keys, value, maxBytes, s.Entries, s.Bytes, s.Evictions, grown, float64(grown)/float64(max(s.Entries, 1)))
	if s.Bytes > maxBytes {
		t.Errorf("holds %d bytes by weight, over the bound %d", s.Bytes, maxBytes)
	}
	if s.Entries < keys/20 || s.Evictions < keys/2 {
		t.Errorf("%d entries, %d evictions: the bound was not used", s.Entries, s.Evictions)
	}
	// Weights count the bookkeeping per entry; allow the hash table's
	// spare capacity and the eviction policy's sketch on top.
	if grown > maxBytes*3/2 {
		t.Errorf("heap grew %d bytes for a %d-byte cache", grown, maxBytes)
	}
	runtime.KeepAlive(c)
}

func TestTooLargeNotStored(t *testing.T) {
	t.Parallel()
	c, _ := newCache(t, Config{MaxBytes: 8 << 10})
	l := &counter{res: Result{TTL: time.Minute}}
	big := func(ctx context.Context, r Request) (Result, error) {
		res, err := l.load(ctx, r)
		res.Value = append(res.Value[:len(res.Value)-1], `,"pad":"`+string(bytes.Repeat([]byte("p"), 2<<10))+`"}`...)
		return res, err
	}
	for i := range 2 {
		if _, src := mustGet(t, c, req("big", ``), big); src != Miss {
			t.Fatalf("call %d: %v, want a miss (over MaxBytes/8)", i, src)
		}
	}
}

// TestBodyTwinWeight checks that an entry's deflated twin, built on the
// first reply that asks for it, is built once and counted in the entry's
// weight, and that twins of entries no longer stored change nothing.
func TestBodyTwinWeight(t *testing.T) {
	t.Parallel()
	var codec wsflate.Codec
	c, _ := newCache(t, Config{Codec: &codec})
	big := bytes.Repeat([]byte(`{"t":1700000000,"p":101.5},`), 100)
	load := func(context.Context, Request) (Result, error) {
		return Result{Value: big, TTL: time.Minute}, nil
	}
	r := req("m", `1`)
	e, _, _ := c.Get(context.Background(), r, load)
	c.store.CleanUp() // weights are applied by otter's maintenance
	before := c.Stats().Bytes
	z := e.Body.Deflated()
	if len(z) == 0 || len(z) >= len(big) || !bytes.Equal(e.Body.Bytes(), e.Value) {
		t.Fatalf("twin of %d bytes for %d plain", len(z), len(big))
	}
	for range 3 {
		got, _, _ := c.Get(context.Background(), r, load)
		if got != e || len(got.Body.Deflated()) != len(z) {
			t.Fatal("a hit does not return the entry with its twin")
		}
	}
	if n := codec.Stats().Compressions; n != 1 {
		t.Fatalf("%d compressions, want 1", n)
	}
	c.store.CleanUp()
	if grown := c.Stats().Bytes - before; grown != uint64(len(z)) {
		t.Errorf("weight grew by %d, want %d", grown, len(z))
	}

	// The twin of an entry no longer stored does not bring it back.
	c.Invalidate(Invalidation{Method: "m"})
	e2, _, _ := c.Get(context.Background(), r, load)
	if e2 == e || !e2.Stored() {
		t.Fatal("after Invalidate: no fresh entry stored")
	}
	c.Invalidate(Invalidation{Method: "m"})
	if len(e2.Body.Deflated()) == 0 {
		t.Fatal("no twin")
	}
	c.store.CleanUp()
	if st := c.Stats(); st.Bytes != 0 || st.Entries != 0 {
		t.Errorf("%d bytes in %d entries held after invalidating every entry, want none", st.Bytes, st.Entries)
	}

	// Nor does a result that was not stored get stored by its twin.
	ns, _, _ := c.Get(context.Background(), req("nostore", ``), func(context.Context, Request) (Result, error) {
		return Result{Value: big}, nil
	})
	if ns.Stored() || len(ns.Body.Deflated()) == 0 {
		t.Fatalf("unstored result: stored %v", ns.Stored())
	}
	c.store.CleanUp()
	if c.Stats().Entries != 0 {
		t.Error("an entry that was not stored got stored")
	}

	// Without a Codec there is no twin.
	plain, _ := newCache(t, Config{})
	pe, _, _ := plain.Get(context.Background(), r, load)
	if pe.Body.Deflated() != nil || pe.Body.Size() != len(big) {
		t.Fatal("a cache without a Codec made a twin")
	}
}
