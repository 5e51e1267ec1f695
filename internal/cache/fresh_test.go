package cache

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

func TestFreshNeverLoads(t *testing.T) {
	t.Parallel()
	c, clock := newCache(t, Config{})
	l := &counter{res: Result{TTL: 10 * time.Second, StaleWhileRevalidate: 10 * time.Second}}
	r := Request{Method: "m", Args: json.RawMessage(`{"b":1,"a":2}`)}
	if e := c.Fresh(r); e != nil {
		t.Fatalf("Fresh on an empty cache: %s", e.Value)
	}
	want, _, err := c.Get(context.Background(), r, l.load)
	if err != nil {
		t.Fatal(err)
	}
	hits := c.Stats().Hits
	if e := c.Fresh(Request{Method: "m", Args: json.RawMessage(`{"a":2, "b":1}`)}); e == nil || string(e.Value) != string(want.Value) {
		t.Fatalf("Fresh of a held result with reordered args: %v", e)
	}
	if c.Stats().Hits != hits+1 {
		t.Error("Fresh did not count a hit")
	}
	clock.Add(15 * time.Second) // stale: Get must serve it and refresh
	if e := c.Fresh(r); e != nil {
		t.Errorf("Fresh returned a stale entry: %s", e.Value)
	}
	if e := c.Fresh(Request{Method: "m", Args: json.RawMessage(`{`)}); e != nil {
		t.Error("Fresh answered invalid args")
	}
	if n := l.calls.Load(); n != 1 {
		t.Errorf("loads: %d, want 1 (Fresh must never load)", n)
	}
}
