package wsflate

import (
	"sync"
	"sync/atomic"
)

// Codec is a process's permessage-deflate state: its Options, the pools
// of compressors and decompressors every connection borrows from, the
// ModeContextTakeover slots and the counters. Create one per server (or
// per client program) and share it: all methods are safe for concurrent
// use. The zero value is usable and behaves as New(Options{}). A Codec
// must not be copied after first use.
//
// Memory: with no context takeover a connection holds nothing of the
// Codec's between messages; a compressor (about 0.8 MB at level 1) or a
// decompressor (about 43 KB) is borrowed for the length of one call and
// pooled, and the pools shrink when the garbage collector runs.
type Codec struct {
	opts    Options
	writers [2]sync.Pool // *deflater, by Window
	readers sync.Pool    // *inflater
	held    atomic.Int64 // context slots reserved by Negotiate and not yet freed

	compressions atomic.Uint64
	compressed   atomic.Uint64
	bytesIn      atomic.Uint64
	bytesOut     atomic.Uint64
	inflations   atomic.Uint64
}

// New returns a Codec for opts. opts is copied; an out-of-range field is
// an error wrapping ErrBadOptions.
func New(opts Options) (*Codec, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	return &Codec{opts: opts}, nil
}

// Options returns the options c was created with (zero fields not
// replaced by their defaults).
func (c *Codec) Options() Options { return c.opts }

// Stats are a Codec's counters since it was created.
type Stats struct {
	// Compressions counts messages run through a compressor: at least
	// Threshold bytes long, whether or not the result was used.
	Compressions uint64
	// Compressed counts the compressions that came out smaller than their
	// input and were reported usable.
	Compressed uint64
	// BytesIn and BytesOut are the plain and compressed sizes, in bytes,
	// of the Compressed messages (without the removed trailer).
	BytesIn, BytesOut uint64
	// Inflations counts Inflate calls that ran a decompressor.
	Inflations uint64
	// Contexts is the number of context slots held now
	// (ModeContextTakeover): reserved by Negotiate and held until Release
	// or the Stream's Close. A slot's compressor, about 0.8 MB at level 1,
	// is borrowed at its connection's first compressed message.
	Contexts int64
}

// Stats returns the counters. Each is read atomically; together they are
// not one snapshot.
func (c *Codec) Stats() Stats {
	return Stats{
		Compressions: c.compressions.Load(),
		Compressed:   c.compressed.Load(),
		BytesIn:      c.bytesIn.Load(),
		BytesOut:     c.bytesOut.Load(),
		Inflations:   c.inflations.Load(),
		Contexts:     c.held.Load(),
	}
}

// Negotiate is the server's side of RFC 7692 for one handshake: offers
// are the client's Sec-WebSocket-Extensions header lines, as
// ws.Upgrader.NegotiateExtensions receives them. It accepts the first
// permessage-deflate offer whose parameters are valid and returns the
// response header value and the settled Params. An offer with a repeated
// or unknown parameter or an invalid value is declined and the next one
// is tried; other extensions are ignored. The response is empty, and p
// zero, when no offer is acceptable, when a line breaks the header's
// grammar, or in ModeDisabled: the handshake then goes on without
// compression.
//
// The response always carries client_no_context_takeover (RFC 7692
// §7.1.1.2 lets the server add it), so inflating never needs state kept
// between messages, and server_no_context_takeover unless c is in
// ModeContextTakeover and the client did not ask for it. A
// server_max_window_bits offer is accepted and echoed: the server then
// compresses with WindowSmall, a 256-byte window that respects every
// allowed value. client_max_window_bits is accepted, bare or with a
// value, and not answered: a pooled decompressor has the full window.
//
// In ModeContextTakeover Negotiate reserves one of MaxContexts context
// slots for every answer that lets the server keep its context (p without
// ServerNoContextTakeover); once every slot is held it answers with
// server_no_context_takeover, as in ModeNoContextTakeover, so a response
// that grants context takeover always comes with a slot. The caller
// settles each such answer exactly once: NewStream(p) hands the slot to
// the connection's Stream, whose Close frees it, and Release(p) frees it
// when the connection will not be served (its handshake failed after
// negotiation). Answers that reserve nothing need no settling; passing
// them to Release does nothing.
func (c *Codec) Negotiate(offers []string) (response string, p Params) {
	exts, err := ParseExtensions(offers)
	if err != nil {
		return "", Params{}
	}
	response, p = negotiate(exts, c.opts.Mode)
	if response == "" || p.ServerNoContextTakeover || c.reserve() {
		return response, p
	}
	return negotiate(exts, ModeNoContextTakeover)
}

// reserve takes a context slot when fewer than MaxContexts are held.
func (c *Codec) reserve() bool {
	limit := c.opts.maxContexts()
	for {
		n := c.held.Load()
		if n >= limit {
			return false
		}
		if c.held.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// reserves reports whether p is an answer of Negotiate that reserved a
// context slot.
func (c *Codec) reserves(p Params) bool {
	return c.opts.Mode == ModeContextTakeover && p.ServerMaxWindowBits != 0 && !p.ServerNoContextTakeover
}

// Release frees the context slot reserved by the Negotiate answer p for
// a connection that will not get a Stream: its handshake failed, or the
// server will not run it. It does nothing when p reserved no slot. Call
// it at most once per answer, and never for an answer passed to
// NewStream.
func (c *Codec) Release(p Params) {
	if c.reserves(p) {
		c.held.Add(-1)
	}
}

// Threshold is the smallest message c compresses, in bytes:
// Options.Threshold with its default applied. A shorter message is sent
// plain without asking the Codec.
func (c *Codec) Threshold() int { return c.opts.threshold() }
