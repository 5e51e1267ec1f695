// Package wsflate implements permessage-deflate, the WebSocket compression
// extension of RFC 7692: negotiation in the opening handshake, and the
// compression and decompression of whole messages with
// github.com/klauspost/compress/flate.
//
// # Negotiation
//
// Codec.Negotiate is the server's side: given the client's
// Sec-WebSocket-Extensions header lines, it picks the first acceptable
// permessage-deflate offer and returns the response and the settled
// Params, which the server keeps for the connection. By default the
// response is
//
//	permessage-deflate; server_no_context_takeover; client_no_context_takeover
//
// even when the client offered neither (RFC 7692 §7.1.1 lets the server
// add both), so no connection keeps a sliding window in either direction.
// A malformed header, like an offer that cannot be accepted, declines
// compression without failing the handshake. ClientOffer with
// AcceptResponse is the client's side; ParseExtensions reads any
// Sec-WebSocket-Extensions header.
//
// A client asking for server_max_window_bits below 15 is accepted: the
// server then compresses its messages for that connection with
// WindowSmall, a compressor whose matches reach back at most 256 bytes,
// which respects every window RFC 7692 allows. client_max_window_bits is
// accepted and not answered, since the server's decompressor always has
// the full 32 KiB window.
//
// # Sending
//
// Codec.Deflate compresses one message for every connection at once: with
// no context takeover the output depends only on the message and the
// window, which is how a prepared frame's deflated twin is built once for
// a fan-out. Messages under Options.Threshold (256 bytes by default) and
// messages that do not shrink are reported not worth compressing and go
// out plain, with RSV1 clear. AppendStored and AppendStoredTail put plain
// bytes in front of and behind a Deflate output as stored DEFLATE blocks,
// so messages that differ only around a part compressed once (a cached
// result under each reply's own id) need no compression of their own.
//
// In ModeContextTakeover a connection may hold a Stream, its own
// compressor whose history spans messages, up to Options.MaxContexts at
// once. Codec.Negotiate reserves the slot when it answers without
// server_no_context_takeover; the server then settles the answer once:
// Codec.NewStream (the Stream's Close frees the slot) or Codec.Release
// (the handshake failed). Past the cap the answer is the stateless one.
//
// # Receiving
//
// Codec.Inflate decompresses one message with a pooled decompressor,
// enforcing the size limit while it inflates, so a deflate bomb costs at
// most the limit. Map its errors to close codes: ErrTooLarge to 1009,
// ErrCorrupt to 1007.
//
// # Concurrency and memory
//
// A Codec is shared by every connection of a process and safe for
// concurrent use; it owns the pools and the counters (Codec.Stats). A
// Stream belongs to one connection and is used by one goroutine at a time;
// it keeps a compressor (about 0.8 MB at level 1) from its first
// compressed message until Close.
// Functions without a receiver are safe for concurrent use. Between
// messages a connection without context takeover holds only its Params
// (4 bytes); compressors and decompressors are borrowed for one call.
//
// # Errors
//
// Sentinels ErrTooLarge, ErrCorrupt, ErrSyntax, ErrBadResponse and
// ErrBadOptions, matched with errors.Is; returned errors may wrap them
// with detail.
package wsflate
