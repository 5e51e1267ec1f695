package cache

import (
	"bytes"
	"context"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/wsgate/wsgate/internal/frame"
)

// flight is one load in progress. Callers that miss on its key while it
// runs wait for it instead of starting another.
type flight struct {
	done   chan struct{} // closed when e and err are set
	e      *Entry
	err    error
	cancel context.CancelFunc

	refreshes string // the key of the entry this flight refreshes, "" for a miss

	// dirty is set, under Cache.mu, by an invalidation that matches the
	// flight's key: its result still answers its waiters but is not stored.
	dirty bool
}

// wait returns the flight's result, or ctx's error if ctx ends first. The
// flight goes on either way.
func (f *flight) wait(ctx context.Context) (*Entry, error) {
	select {
	case <-f.done:
		return f.e, f.err
	default:
	}
	select {
	case <-f.done:
		return f.e, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// startLocked registers a flight for full and starts its load on a
// goroutine of the cache; refreshes is the key of the entry it refreshes,
// "" for a miss. The load gets ctx's values but not its
// cancellation. c.mu must be held and the cache must not be closed.
func (c *Cache) startLocked(ctx context.Context, full, shared, refreshes string, r Request, load LoadFunc) *flight {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.LoadTimeout)
	f := &flight{done: make(chan struct{}), cancel: cancel, refreshes: refreshes}
	c.flights[full] = f
	r.Args = bytes.Clone(r.Args) // the caller's buffer may be reused once Get returns
	c.tasksGate.RLock()
	c.tasks.Add(1)
	c.tasksGate.RUnlock()
	go c.run(lctx, f, full, shared, r, load)
	return f
}

// run loads r, stores the result when it may be stored, and hands it to
// the flight's waiters.
func (c *Cache) run(ctx context.Context, f *flight, full, shared string, r Request, load LoadFunc) {
	defer c.tasks.Done()
	defer f.cancel()
	res, err := c.call(ctx, r, load)
	var e *Entry
	if err == nil {
		now := c.now()
		e = &Entry{Value: res.Value, private: res.Private}
		var onDeflate func()
		if c.cfg.Codec != nil {
			onDeflate = func() { c.reweigh(e) }
		}
		e.Body = frame.NewBody(c.cfg.Codec, res.Value, onDeflate)
		if res.TTL > 0 {
			e.fresh = now + int64(res.TTL)
			e.stale = e.fresh + max(int64(res.StaleWhileRevalidate), 0)
		}
	}

	c.mu.Lock()
	if e != nil && !f.dirty {
		c.storeLocked(e, full, shared, r, res.TTL > 0)
	}
	delete(c.flights, full)
	if f.refreshes != "" {
		delete(c.refreshing, f.refreshes)
	}
	c.mu.Unlock()
	if err != nil {
		c.loadErrors.Add(1) // counted once the flight is gone: the next miss starts a new load
	}

	f.e, f.err = e, err
	close(f.done)
}

// storeLocked stores e under the key its privacy calls for, or removes the
// entry it would replace when e may not be stored. c.mu must be held, so
// that no invalidation runs between the flight's dirty check and the write.
func (c *Cache) storeLocked(e *Entry, full, shared string, r Request, storable bool) {
	k := shared
	if e.private {
		// The result is private now: a shared copy from before is wrong.
		c.store.Invalidate(shared)
		if r.User == "" {
			return // a shared cache must not keep a private result it cannot key by user
		}
		k = full
		c.privateMethods[r.Method] = struct{}{}
	}
	if !storable || weight(k, e) > int(c.cfg.MaxBytes/8) {
		c.store.Invalidate(k) // the newer answer says the older one must go
		return
	}
	if len(k) != len(full) {
		k = strings.Clone(k) // do not keep the user's part of full alive
	}
	e.key = k
	c.store.Set(k, e)
}

// call runs load, turning a panic into an error.
func (c *Cache) call(ctx context.Context, r Request, load LoadFunc) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			c.cfg.Logger.Error("cache: load panicked", "method", r.Method, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("%w: %s: %v", ErrLoadPanicked, r.Method, p)
		}
	}()
	return load(ctx, r)
}
