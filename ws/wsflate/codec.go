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
	held    atomic.Int64 // Streams holding a context slot

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
	// Contexts is the number of Streams holding a compressor context now.
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

// Negotiate is the package-level Negotiate with c's Options, except that
// in ModeContextTakeover it answers server_no_context_takeover once
// MaxContexts Streams are held. The answer is advisory for the cap: a
// connection that was allowed a context but finds the slots taken when it
// calls NewStream compresses without one, which the RFC allows.
func (c *Codec) Negotiate(offers []Extension) (response string, p Params, ok bool) {
	opts := c.opts
	if opts.Mode == ModeContextTakeover && c.held.Load() >= opts.maxContexts() {
		opts.Mode = ModeNoContextTakeover
	}
	return Negotiate(offers, opts)
}

// NegotiateExtensions has the shape of ws.Upgrader.NegotiateExtensions:
//
//	u := &ws.Upgrader{NegotiateExtensions: codec.NegotiateExtensions}
//
// It parses the offers and calls c.Negotiate. A malformed header, like an
// offer it cannot accept, declines compression ("") without failing the
// handshake, so err is always nil. The server recovers the Params from
// the response with ParseResponse([]string{hs.Extensions}), hs being the
// ws.Handshake.
func (c *Codec) NegotiateExtensions(offers []string) (response string, err error) {
	exts, perr := ParseExtensions(offers)
	if perr != nil {
		return "", nil
	}
	response, _, _ = c.Negotiate(exts)
	return response, nil
}

// threshold is the smallest message c compresses, in bytes.
func (c *Codec) threshold() int { return c.opts.threshold() }
