package cache

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/wsgate/wsgate/internal/frame"
)

// Request names a call for the cache: its key is Method and the canonical
// form of Args, plus User for a result the backend marked private.
type Request struct {
	Method string          // the method; must not contain a NUL byte
	Args   json.RawMessage // the call's args, nil when absent (null counts as absent); not retained by Get
	User   string          // the caller's identity, "" when anonymous
}

// Result is what a LoadFunc returns for a successful call.
type Result struct {
	// Value is the result as ready-to-send JSON. The cache keeps it and
	// hands it to every reader, so nobody may modify it afterwards.
	Value []byte
	// TTL is how long Value stays fresh, counted from when the load ends.
	// Zero or negative means Value is not stored (no-store, no-cache, or
	// no caching information); it still answers the calls that waited.
	TTL time.Duration
	// StaleWhileRevalidate is how long after TTL Value may still be served
	// while one refresh runs in the background (RFC 5861). Zero means never.
	StaleWhileRevalidate time.Duration
	// Private means Value is for Request.User only: it is stored under a
	// key that includes the user, and not stored at all for "".
	Private bool
}

// LoadFunc computes a call's result on a miss or a refresh. It runs on a
// goroutine of the cache, with a context that carries the values of the
// context given to the Get that started it but is cancelled only by
// Config.LoadTimeout and Close, never by a caller leaving. Its error is
// handed to every caller that waited and is never stored. A panic is
// recovered and returned as an error wrapping ErrLoadPanicked.
//
// Every call with the same key may be answered by the result of one load,
// so a LoadFunc must compute the same result for the same Method, Args and
// User, whatever else differs between the callers.
type LoadFunc func(ctx context.Context, r Request) (Result, error)

// Entry is a result held by the cache, or returned from a load that was not
// stored. An Entry never changes after Get returns it, apart from the
// deflated twin its Body builds once; all its fields are read-only and
// shared by every reader.
type Entry struct {
	// Value is the result, ready-to-send JSON.
	Value []byte
	// Body is Value as the shared body of the replies it answers, with
	// its deflated twin built by Config.Codec on first use and kept with
	// the entry (frame.Body); the entry's weight counts the twin once it
	// is built.
	Body *frame.Body

	key     string // "" when the entry is not stored
	fresh   int64  // fresh until, in the cache clock's Unix nanoseconds
	stale   int64  // served (stale) until, ≥ fresh
	private bool
}

// Private reports whether e is stored for one user only.
func (e *Entry) Private() bool { return e.private }

// Stored reports whether e is held by the cache (it may have been evicted
// or invalidated since).
func (e *Entry) Stored() bool { return e.key != "" }

// Source tells how Get answered.
type Source uint8

// The sources of an answer.
const (
	Hit       Source = iota + 1 // a fresh entry
	Stale                       // an entry past its TTL but within its stale-while-revalidate window; one refresh runs
	Miss                        // this call started the load and waited for it
	Coalesced                   // this call waited for a load another call had started
)

// String returns "hit", "stale", "miss" or "coalesced".
func (s Source) String() string {
	switch s {
	case Hit:
		return "hit"
	case Stale:
		return "stale"
	case Miss:
		return "miss"
	case Coalesced:
		return "coalesced"
	}
	return "Source(" + strconv.Itoa(int(s)) + ")"
}

// Stats is a snapshot of a cache's counters. Counters only grow; Bytes and
// Entries are current levels.
type Stats struct {
	Hits        uint64 // calls answered by a fresh entry
	StaleHits   uint64 // calls answered by a stale entry while a refresh ran
	Misses      uint64 // calls that started a load
	Coalesced   uint64 // calls that waited for a load another call had started
	Refreshes   uint64 // background refreshes started
	LoadErrors  uint64 // loads and refreshes that failed (errors and panics)
	Evictions   uint64 // entries removed to stay within Config.MaxBytes
	Invalidated uint64 // entries removed by Invalidate and Apply
	Bytes       uint64 // bytes held, by the weight of each entry (see Config.MaxBytes)
	Entries     int    // entries held, approximately
}
