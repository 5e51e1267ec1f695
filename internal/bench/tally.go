package bench

import (
	"maps"
	"sync"
)

// tally counts events by name, such as error kinds or reply codes. It is
// safe for concurrent use; it is meant for rare events or per-batch adds.
type tally struct {
	mu sync.Mutex
	m  map[string]int64
}

// Add adds n to the count of name.
func (t *tally) Add(name string, n int64) {
	t.mu.Lock()
	if t.m == nil {
		t.m = make(map[string]int64)
	}
	t.m[name] += n
	t.mu.Unlock()
}

// Snapshot returns a copy of the counts (nil when empty).
func (t *tally) Snapshot() map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) == 0 {
		return nil
	}
	return maps.Clone(t.m)
}

// Total is the sum of all counts.
func (t *tally) Total() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var n int64
	for _, v := range t.m {
		n += v
	}
	return n
}
