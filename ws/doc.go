// Package ws is wsgate's RFC 6455 core: frame headers, opcodes, masking,
// close codes and payloads, streaming UTF-8 validation, a push decoder for
// frames and messages, and the opening handshake on the server and the
// client side.
//
// The package holds primitives only. It starts no goroutines, keeps no
// pools, does no logging and applies no policy beyond what RFC 6455
// requires; limits such as the maximum message size are passed in by the
// caller. Functions work on caller-owned []byte: Append* functions append to
// dst and return the extended slice, parsers read from b and say how many
// bytes they used.
//
// # Push decoding
//
// Reader is a push parser: it consumes whatever bytes the caller has and
// keeps its own state between calls, so the same decoder serves a blocking
// goroutine-per-connection engine and an event loop that is handed partial
// buffers. It enforces every rule of RFC 6455 §5 that a receiver must
// check and reports a violation as a *ProtocolError carrying the close
// code to send (1002, 1007 or 1009).
//
// # Concurrency
//
// Functions without a receiver are safe for concurrent use. A Reader or a
// UTF8Validator belongs to one connection and must not be used by several
// goroutines at once. An Upgrader may be shared once it is configured; its
// fields must not change while it is in use.
//
// # Errors
//
// Violations by the peer are *ProtocolError, a Close received from the peer
// is described by *CloseError, and a rejected opening handshake is a
// *HandshakeError (which matches ErrBadHandshake with errors.Is). Use
// errors.As to get at their fields.
package ws
