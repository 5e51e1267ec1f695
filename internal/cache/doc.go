// Package cache is the response cache in front of calls: it holds
// ready-to-send results (JSON bytes) for as long as the backend allows, so
// a popular call costs the backend one request per TTL instead of one per
// client.
//
// # Keys
//
// A result is keyed by its method and the canonical form of its args
// (AppendCanonical): {"b":1, "a":2} and {"a":2,"b":1} share an entry. A
// result the loader marks private is keyed by the user as well, and is
// never stored for an anonymous caller. Get looks for the caller's own
// entry first, then for the shared one.
//
// # Lifetime
//
// The loader decides: Result.TTL (from the backend's Cache-Control max-age
// or s-maxage, or set by a Go handler) and Result.StaleWhileRevalidate. A
// result with no TTL (no-store, no-cache) is not stored, nor is an error.
// Time comes from Config.Clock, so tests move it by hand.
//
// # Loads
//
// Concurrent misses on one key make exactly one load; the other callers
// wait for it and share its result or its error. Callers with different
// users do not share a load (the backend sees the user and may answer each
// differently), but they share the entry it stores unless it is private. The load belongs to the
// cache, not to the caller that started it: a caller whose context ends
// stops waiting, and the load goes on for the others until it ends or
// Config.LoadTimeout passes. Within an entry's stale-while-revalidate
// window, Get returns the stale entry at once and one background refresh
// runs.
//
// # Bounds
//
// The cache is bounded by bytes (Config.MaxBytes), not by entries; otter
// (github.com/maypok86/otter/v2) chooses what to evict. An entry weighs its
// key, its value, its deflated twin once built (Entry.Body, made by
// Config.Codec on first use, so a result is compressed at most once while
// it is held) and a fixed overhead.
//
// # Invalidation
//
// Invalidate drops one call's entries, a method's or every method's under
// a name prefix, and reports it through Config.OnInvalidate so the server
// can forward it to other nodes, where Apply drops the same entries
// without reporting again.
//
// # Concurrency
//
// All methods of Cache are safe for concurrent use. Entries are immutable
// and shared: never modify Entry.Value or the Body's bytes. Loads, refreshes
// and otter's maintenance run on goroutines that Close cancels (loads)
// and waits for.
package cache
