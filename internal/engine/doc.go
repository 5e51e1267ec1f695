// Package engine owns WebSocket connections after the opening handshake:
// it reads bytes, decodes frames with ws.Reader, answers control frames,
// hands whole messages to a Handler, and writes through a bounded
// per-connection queue.
//
// This file set holds the goroutine engine: one goroutine reads a
// connection and one writes it. It runs on every system and serves TLS.
// The engine knows nothing about JSON, channels or caches.
package engine
