package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidInvalidation is wrapped by the error of an Invalidation that
// names neither a method nor a prefix, or both.
var ErrInvalidInvalidation = errors.New("cache: invalid invalidation")

// Invalidation says which entries to drop. Exactly one of Method and
// Prefix is set:
//
//   - Method and Args: the entries of that one call (for every user, when
//     the method has returned private results). Args may use any member
//     order and spacing.
//   - Method alone: every entry of the method, whatever its args.
//   - Prefix: every entry of every method whose name starts with Prefix.
//
// It is also what the server forwards to other nodes, so its JSON form
// matches /api/cache/invalidate: {"method","args"?} or {"prefix"}.
type Invalidation struct {
	Method string          `json:"method,omitempty"`
	Args   json.RawMessage `json:"args,omitempty"`
	Prefix string          `json:"prefix,omitempty"`
}

// Invalidate drops the entries inv names and returns how many it dropped.
// Loads of matching keys that are in flight still answer their waiters,
// but their results are not stored. After a successful Invalidate,
// Config.OnInvalidate is called with inv in canonical form.
//
// Dropping one call's entries costs a hash lookup, plus a scan of every
// key when the method has returned private results; dropping a method or
// a prefix scans every key.
func (c *Cache) Invalidate(inv Invalidation) (int, error) {
	canon, n, err := c.invalidate(inv)
	if err != nil {
		return 0, err
	}
	if c.cfg.OnInvalidate != nil {
		c.cfg.OnInvalidate(canon)
	}
	return n, nil
}

// Apply drops the entries inv names, as Invalidate does, without calling
// Config.OnInvalidate: it is for invalidations that come from other nodes.
func (c *Cache) Apply(inv Invalidation) (int, error) {
	_, n, err := c.invalidate(inv)
	return n, err
}

func (c *Cache) invalidate(inv Invalidation) (Invalidation, int, error) {
	if (inv.Method == "") == (inv.Prefix == "") || inv.Prefix != "" && inv.Args != nil {
		return inv, 0, fmt.Errorf("%w: want a method (with or without args) or a prefix", ErrInvalidInvalidation)
	}
	if strings.IndexByte(inv.Method, 0) >= 0 || strings.IndexByte(inv.Prefix, 0) >= 0 {
		return inv, 0, fmt.Errorf("%w: NUL in a name", ErrInvalidInvalidation)
	}
	if inv.Prefix != "" {
		return inv, c.dropMatching(func(k string) bool { return strings.HasPrefix(k, inv.Prefix) }), nil
	}
	if inv.Args == nil {
		prefix := inv.Method + "\x00"
		return inv, c.dropMatching(func(k string) bool { return strings.HasPrefix(k, prefix) }), nil
	}
	shared, _, err := c.key(Request{Method: inv.Method, Args: inv.Args})
	if err != nil {
		return inv, 0, err
	}
	inv.Args = json.RawMessage(shared[len(inv.Method)+1:])
	if len(inv.Args) == 0 {
		inv.Args = json.RawMessage("null")
	}
	// The check and the marks share one critical section with every
	// flight's store: a private result stored after the check belongs to a
	// marked flight, so it is not stored at all.
	users := shared + "\x00"
	match := func(k string) bool { return k == shared || strings.HasPrefix(k, users) }
	c.mu.Lock()
	_, private := c.privateMethods[inv.Method]
	c.markLocked(match)
	c.mu.Unlock()
	if private {
		return inv, c.remove(match), nil
	}
	n := 0
	if _, ok := c.store.Invalidate(shared); ok {
		n = 1
	}
	c.invalidated.Add(uint64(n))
	return inv, n, nil
}

// dropMatching marks the flights whose keys match, then removes every
// stored key that matches, and returns how many it removed.
func (c *Cache) dropMatching(match func(string) bool) int {
	c.mu.Lock()
	c.markLocked(match)
	c.mu.Unlock()
	return c.remove(match)
}

// markLocked marks the flights whose keys match, so that their results
// are not stored. c.mu must be held. A flight stores under c.mu, so it
// either stored before the mark (and the removal that follows drops the
// entry) or sees the mark.
func (c *Cache) markLocked(match func(string) bool) {
	for k, f := range c.flights {
		if match(k) {
			f.dirty = true
		}
	}
}

// remove removes every stored key that matches and returns how many.
func (c *Cache) remove(match func(string) bool) int {
	var keys []string
	for k := range c.store.Keys() {
		if match(k) {
			keys = append(keys, k)
		}
	}
	n := 0
	for _, k := range keys {
		if _, ok := c.store.Invalidate(k); ok {
			n++
		}
	}
	c.invalidated.Add(uint64(n))
	return n
}
