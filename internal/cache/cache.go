package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/maypok86/otter/v2"

	"github.com/wsgate/wsgate/ws/wsflate"
)

// entryOverhead is what an entry costs beyond the bytes of its key, value
// and deflated twin, counted in its weight: the Entry, otter's node, the hash
// table's slot and size-class rounding. 20,000 entries measured 218–232
// bytes each on linux/amd64 with otter v2.4.0 (see TestSizeBound).
const entryOverhead = 240

// ErrClosed is returned by Get for a miss after Close.
var ErrClosed = errors.New("cache: closed")

// ErrLoadPanicked is wrapped by the error a load returns when its LoadFunc
// panicked.
var ErrLoadPanicked = errors.New("cache: load panicked")

// ErrInvalidMethod is returned for a method name that contains a NUL byte,
// which keys use as a separator.
var ErrInvalidMethod = errors.New("cache: method name contains NUL")

// DefaultMaxBytes is Config.MaxBytes's default, 64 MiB; it is also the
// default of wsgate.Config.CacheSize and of the wsgate command's
// --cache-size, which refer to it.
const DefaultMaxBytes = 64 << 20

// Config configures a Cache. The zero value is ready to use.
type Config struct {
	// MaxBytes bounds what the cache holds, in bytes: each entry weighs its
	// key, its Value, its deflated twin once built and 240 bytes of
	// bookkeeping. A result weighing more than MaxBytes/8 is not stored.
	// Zero means 64 MiB.
	MaxBytes int64
	// LoadTimeout bounds one load or refresh. Callers stop waiting when
	// their own context ends; the load goes on, for the callers still
	// waiting and for the cache, until it ends or LoadTimeout passes.
	// Zero means 10s.
	LoadTimeout time.Duration
	// Clock is the time source for TTLs. Nil means the system clock read
	// every 10 ms by a goroutine of the cache, so a TTL may end up to
	// 10 ms early or late.
	Clock Clock
	// Logger receives load panics. Nil means slog.Default().
	Logger *slog.Logger
	// Codec builds the deflated twin of an entry's Body, on the first
	// reply that asks for it (frame.Body.Deflated). Nil means entries have
	// no twin. The cache does not own it.
	Codec *wsflate.Codec
	// OnInvalidate, when set, is called after every Invalidate (not after
	// Apply) with the invalidation in canonical form, so the server can
	// forward it to the other nodes, which Apply it. It runs on the
	// goroutine that called Invalidate and should not block.
	OnInvalidate func(Invalidation)
}

func (c Config) withDefaults() Config {
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.LoadTimeout <= 0 {
		c.LoadTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Cache holds ready-to-send call results, bounded by bytes, fresh for the
// TTL their loader gave them. Concurrent misses on one key share one load.
// All methods are safe for concurrent use. Close stops its goroutines.
type Cache struct {
	cfg    Config
	clock  nanoClock
	coarse *otter.CoarseClock // the default clock, stopped by Close; nil with Config.Clock
	store  *otter.Cache[string, *Entry]

	mu             sync.Mutex
	flights        map[string]*flight  // loads running, by full key
	refreshing     map[string]struct{} // keys of the entries being refreshed
	privateMethods map[string]struct{} // methods that returned a private result
	closed         bool

	bufs sync.Pool // *keyBuf

	tasks     sync.WaitGroup // loads, refreshes and otter's maintenance
	tasksGate sync.RWMutex   // orders tasks.Add before Close's tasks.Wait
	tasksDone bool           // after Close: otter's tasks run inline

	hits, staleHits, misses, coalesced, refreshes, loadErrors, evictions, invalidated atomic.Uint64
}

// New returns an empty Cache.
func New(cfg Config) (*Cache, error) {
	cfg = cfg.withDefaults()
	c := &Cache{
		cfg:            cfg,
		flights:        make(map[string]*flight),
		refreshing:     make(map[string]struct{}),
		privateMethods: make(map[string]struct{}),
	}
	opts := &otter.Options[string, *Entry]{
		MaximumWeight: uint64(cfg.MaxBytes),
		Weigher:       func(k string, e *Entry) uint32 { return uint32(min(weight(k, e), math.MaxUint32)) },
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, *Entry]) time.Duration {
			return time.Duration(e.Value.stale - c.now())
		}),
		OnAtomicDeletion: func(e otter.DeletionEvent[string, *Entry]) {
			if e.Cause == otter.CauseOverflow {
				c.evictions.Add(1)
			}
		},
		Executor: c.spawn,
		Logger:   otterLogger{cfg.Logger},
	}
	if cfg.Clock != nil {
		c.clock = otterClock{cfg.Clock}
		opts.Clock = otterClock{cfg.Clock}
	} else {
		c.coarse = otter.NewCoarseClock(coarseResolution)
		c.clock = c.coarse
		opts.Clock = c.coarse
	}
	store, err := otter.New(opts)
	if err != nil {
		if c.coarse != nil {
			c.coarse.Stop()
		}
		return nil, fmt.Errorf("cache: %w", err)
	}
	c.store = store
	return c, nil
}

func weight(key string, e *Entry) int {
	return len(key) + e.Body.Size() + entryOverhead
}

func (c *Cache) now() int64 { return c.clock.NowNano() }

// Get returns the result of the call r: from the cache when a fresh entry
// is held, else from load. Concurrent misses on one key make one load and
// share its result or error. A stale entry within its
// stale-while-revalidate window is returned at once while one refresh runs
// in the background.
//
// The returned Entry is shared and read-only. Source says how it was
// found. When ctx ends before the load it waits for, Get returns ctx's
// error and the load goes on. Args must be valid JSON (it is
// canonicalised into the key; an error wraps ErrInvalidArgs); Get does
// not retain r.Args.
func (c *Cache) Get(ctx context.Context, r Request, load LoadFunc) (*Entry, Source, error) {
	full, shared, err := c.key(r)
	if err != nil {
		return nil, 0, err
	}
	now := c.now()
	if e, src := c.lookup(full, shared, now); src != 0 {
		return c.answer(ctx, e, src, full, shared, r, load)
	}

	c.mu.Lock()
	if _, private := c.privateMethods[r.Method]; private && r.User == "" {
		// Its results are for one caller, and an anonymous caller cannot
		// be told from another: no result of another call may answer it.
		c.mu.Unlock()
		return c.loadAlone(ctx, r, load)
	}
	if f, ok := c.flights[full]; ok {
		c.mu.Unlock()
		c.coalesced.Add(1)
		e, err := f.wait(ctx)
		if err == nil && e.private && r.User == "" {
			// The answer turned out private: it was the first caller's
			// alone, and this one makes its own call.
			return c.loadAlone(ctx, r, load)
		}
		return e, Coalesced, err
	}
	// A load may have stored the entry since the lookup above.
	if e, src := c.lookup(full, shared, now); src != 0 {
		c.mu.Unlock()
		return c.answer(ctx, e, src, full, shared, r, load)
	}
	if c.closed {
		c.mu.Unlock()
		return nil, 0, ErrClosed
	}
	f := c.startLocked(ctx, full, shared, "", r, load)
	c.mu.Unlock()
	c.misses.Add(1)
	e, err := f.wait(ctx)
	return e, Miss, err
}

// loadAlone runs load for r on the caller's goroutine, shared with no
// other caller and stored nowhere: the call of an anonymous caller whose
// answer is private.
func (c *Cache) loadAlone(ctx context.Context, r Request, load LoadFunc) (*Entry, Source, error) {
	c.misses.Add(1)
	ctx, cancel := context.WithTimeout(ctx, c.cfg.LoadTimeout)
	defer cancel()
	res, err := c.call(ctx, r, load)
	if err != nil {
		c.loadErrors.Add(1)
		return nil, Miss, err
	}
	return &Entry{Value: res.Value, private: res.Private}, Miss, nil
}

// Fresh returns the fresh entry answering r, or nil when there is none
// (nothing held, or only a stale entry, which Get serves while it starts
// the refresh). It never loads and never waits, so it may be called where
// blocking is not allowed, such as an event loop. A fresh entry counts as
// a hit. Once the cache's scratch buffers have grown, Fresh does not
// allocate: the key is built in a pooled buffer and only looked up.
func (c *Cache) Fresh(r Request) *Entry {
	kb := c.getKeyBuf()
	defer c.putKeyBuf(kb)
	n, err := kb.appendKey(r)
	if err != nil {
		return nil
	}
	// The store only hashes and compares the keys of a lookup, never
	// keeps them, so they may alias kb.b for the length of the call.
	full := unsafe.String(unsafe.SliceData(kb.b), len(kb.b))
	if e, src := c.lookup(full, full[:n], c.now()); src == Hit {
		c.hits.Add(1)
		return e
	}
	return nil
}

// lookup finds the entry answering full (the user's own) or shared. src is
// 0 when there is none, or it has expired.
func (c *Cache) lookup(full, shared string, now int64) (*Entry, Source) {
	if len(full) != len(shared) {
		if e, ok := c.store.GetIfPresent(full); ok && now < e.stale {
			return e, state(e, now)
		}
	}
	if e, ok := c.store.GetIfPresent(shared); ok && now < e.stale {
		return e, state(e, now)
	}
	return nil, 0
}

func state(e *Entry, now int64) Source {
	if now < e.fresh {
		return Hit
	}
	return Stale
}

// answer counts a hit, or serves a stale entry and starts its refresh.
func (c *Cache) answer(ctx context.Context, e *Entry, src Source, full, shared string, r Request, load LoadFunc) (*Entry, Source, error) {
	if src == Hit {
		c.hits.Add(1)
		return e, Hit, nil
	}
	c.staleHits.Add(1)
	c.mu.Lock()
	// One refresh per entry: none when a load for the caller's key runs,
	// when the entry is being refreshed (for another user, say), or when a
	// load ended and replaced it since the lookup (loads store under c.mu).
	_, running := c.flights[full]
	_, refreshing := c.refreshing[e.key]
	if !running && !refreshing && !c.closed && c.current(e) {
		c.startLocked(ctx, full, shared, e.key, r, load)
		c.refreshing[e.key] = struct{}{}
		c.refreshes.Add(1)
	}
	c.mu.Unlock()
	return e, Stale, nil
}

// current reports whether e is still the entry stored under its key.
func (c *Cache) current(e *Entry) bool {
	got, ok := c.store.GetEntryQuietly(e.key)
	return ok && got.Value == e
}

// Close cancels the loads and refreshes in flight and waits for them and
// for the cache's other goroutines to end. Entries stay readable; a later
// miss gets ErrClosed. Close is idempotent.
func (c *Cache) Close() {
	c.mu.Lock()
	c.closed = true
	for _, f := range c.flights {
		f.cancel()
	}
	c.mu.Unlock()
	c.tasksGate.Lock()
	c.tasksDone = true
	c.tasksGate.Unlock()
	c.tasks.Wait()
	c.store.StopAllGoroutines()
	if c.coarse != nil {
		c.coarse.Stop()
	}
}

// spawn is otter's executor: its tasks run on goroutines Close waits for,
// and inline once Close has begun.
func (c *Cache) spawn(fn func()) {
	c.tasksGate.RLock()
	if c.tasksDone {
		c.tasksGate.RUnlock()
		fn()
		return
	}
	c.tasks.Add(1)
	c.tasksGate.RUnlock()
	go func() {
		defer c.tasks.Done()
		fn()
	}()
}

// reweigh writes e again under its key, so that its weight counts the
// deflated twin its Body has just built. Nothing happens when e is no
// longer the stored entry for its key (replaced, evicted, expired,
// invalidated) or was never stored.
func (c *Cache) reweigh(e *Entry) {
	if e.key == "" {
		return
	}
	c.store.ComputeIfPresent(e.key, func(old *Entry) (*Entry, otter.ComputeOp) {
		if old != e {
			return old, otter.CancelOp
		}
		return e, otter.WriteOp
	})
}

// Stats returns a snapshot of the counters.
func (c *Cache) Stats() Stats {
	return Stats{
		Hits:        c.hits.Load(),
		StaleHits:   c.staleHits.Load(),
		Misses:      c.misses.Load(),
		Coalesced:   c.coalesced.Load(),
		Refreshes:   c.refreshes.Load(),
		LoadErrors:  c.loadErrors.Load(),
		Evictions:   c.evictions.Load(),
		Invalidated: c.invalidated.Load(),
		Bytes:       c.store.WeightedSize(),
		Entries:     c.store.EstimatedSize(),
	}
}

// keyBuf is scratch space for building a key.
type keyBuf struct {
	b       []byte
	members []member
}

// maxPooledKey is the largest key buffer, in bytes, kept for reuse.
const maxPooledKey = 64 << 10

func (c *Cache) getKeyBuf() *keyBuf {
	if kb, ok := c.bufs.Get().(*keyBuf); ok {
		return kb
	}
	return &keyBuf{b: make([]byte, 0, 256), members: make([]member, 0, 32)}
}

func (c *Cache) putKeyBuf(kb *keyBuf) {
	if cap(kb.b) <= maxPooledKey {
		c.bufs.Put(kb)
	}
}

// key returns the key of r for its own user (full) and for everybody
// (shared, a prefix of full): Method, NUL, canonical Args, and for a
// non-empty User another NUL and User. Canonical JSON holds no NUL byte,
// so keys cannot collide across the parts. The string is key's only
// allocation once its scratch buffers have grown.
func (c *Cache) key(r Request) (full, shared string, err error) {
	kb := c.getKeyBuf()
	defer c.putKeyBuf(kb)
	n, err := kb.appendKey(r)
	if err != nil {
		return "", "", err
	}
	full = string(kb.b)
	return full, full[:n], nil
}

// appendKey sets kb.b to the full key of r (see Cache.key) and returns the
// length of its shared prefix.
func (kb *keyBuf) appendKey(r Request) (shared int, err error) {
	if strings.IndexByte(r.Method, 0) >= 0 {
		return 0, ErrInvalidMethod
	}
	b := append(kb.b[:0], r.Method...)
	b = append(b, 0)
	if len(r.Args) > 0 {
		start := len(b)
		b, kb.members, err = appendCanonical(b, r.Args, kb.members)
		kb.b = b
		if err != nil {
			return 0, err
		}
		if string(b[start:]) == "null" { // null args count as absent
			b = b[:start]
		}
	}
	n := len(b)
	if r.User != "" {
		b = append(b, 0)
		b = append(b, r.User...)
	}
	kb.b = b
	return n, nil
}
