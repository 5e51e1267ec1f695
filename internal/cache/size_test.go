package cache

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
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

func TestSetTwin(t *testing.T) {
	t.Parallel()
	c, _ := newCache(t, Config{})
	l := &counter{res: Result{TTL: time.Minute}}
	r := req("m", `1`)
	e, _, _ := c.Get(context.Background(), r, l.load)
	c.store.CleanUp() // weights are applied by otter's maintenance
	before := c.Stats().Bytes
	twin := bytes.Repeat([]byte{0xde}, 1000)
	e2 := c.SetTwin(e, twin)
	if !e2.Stored() || !bytes.Equal(e2.Twin, twin) || e.Twin != nil {
		t.Fatalf("SetTwin: stored %v, twin %d bytes, old entry changed: %v", e2.Stored(), len(e2.Twin), e.Twin != nil)
	}
	if got, _, _ := c.Get(context.Background(), r, l.load); got != e2 {
		t.Fatal("Get does not return the entry with the twin")
	}
	c.store.CleanUp()
	if grown := c.Stats().Bytes - before; grown != 1000 {
		t.Errorf("weight grew by %d, want 1000", grown)
	}
	// A replaced entry gets no twin stored.
	if e3 := c.SetTwin(e, []byte("x")); e3.Stored() {
		t.Error("SetTwin on an old entry stored it")
	}
	// Nor does an entry that was never stored.
	nl := &counter{}
	ns, _, _ := c.Get(context.Background(), req("nostore", ``), nl.load)
	if ns.Stored() || c.SetTwin(ns, []byte("x")).Stored() {
		t.Error("an entry that was not stored got stored")
	}
}
