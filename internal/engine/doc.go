// Package engine owns WebSocket connections after the opening handshake:
// it reads bytes, decodes frames with ws.Reader, answers control frames,
// hands whole messages to a Handler, and writes through a bounded
// per-connection queue.
//
// Two engines share one connection state machine (conn.go, read.go,
// queue.go): the closing handshake, the slow-consumer policy, keep-alive
// pings and idle timeouts, half-closing a failed connection.
//
//   - Goroutine (goroutine.go): one goroutine reads a connection and one
//     writes it. It runs on every system and serves TLS.
//   - Epoll (epoll_linux.go, conn_epoll_linux.go): GOMAXPROCS event loops
//     own the sockets. An idle connection is a small struct: no goroutine,
//     no buffer, no timer. Reads go into one buffer per loop; a connection
//     keeps a decoder (and its bytes) only while a frame or fragmented
//     message is partial. Writes go to the socket at once from the writing
//     goroutine; what does not fit waits as references to the frames and
//     is sent with writev when the socket drains. While the loop handles
//     a connection's input, writes to that connection (the Handler's
//     replies) wait and leave together in one writev once the read is
//     done. One sweep per loop applies every timeout.
//
// Compression (upgrade.go, deflate.go, parts.go, stream.go): Upgrade runs
// the opening handshake with Options.Codec negotiating permessage-deflate
// (RFC 7692) and settles the context slot an answer may reserve. A
// connection that negotiated it accepts RSV1 on data messages, inflates
// them into a pooled buffer within MaxMessageSize (1009 past it, 1007 for
// corrupt data or invalid UTF-8) and compresses what it sends when that is
// worth it (at least the Codec's threshold, and smaller compressed);
// callers never compress. Between messages it holds only its 4-byte
// Params. Work shared by many messages is compressed once: a prepared
// frame's deflated twin serves a whole fan-out (WriteFrame), and a shared
// body's twin (frame.Body, a cached result) is sent between each
// message's own head and tail as stored DEFLATE blocks (WriteWrapped),
// for connections with the full window and no context (one that limited
// the window gets the prepared frame's small-window twin, and has each
// wrapped message compressed as a whole). A connection whose Params grant server context takeover (stream.go) compresses
// through a wsflate.Stream of its own instead of any shared twin,
// compressing and queueing under the Stream's lock so that wire order is
// compression order; it holds the compressor from its first compressed
// message until it ends, when the engine frees its context slot.
//
// The engine knows nothing about JSON, channels or caches.
package engine
