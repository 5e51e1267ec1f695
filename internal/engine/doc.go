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
// Compression (deflate.go): a connection that negotiated permessage-deflate
// (RFC 7692; Serve's Params, Options.Codec) accepts RSV1 on data messages,
// inflates them into a pooled buffer within MaxMessageSize (1009 past it,
// 1007 for corrupt data or invalid UTF-8) and sends WriteMessage payloads
// and prepared frames compressed when that is worth it. Between messages
// it holds only its 4-byte Params. A connection whose Params grant server
// context takeover (stream.go) compresses through a wsflate.Stream of its
// own instead of prepared frames' shared twins, compressing and queueing
// under the Stream's lock so that wire order is compression order; it
// holds the compressor from its first compressed message until it ends,
// when the engine frees its context slot.
//
// The engine knows nothing about JSON, channels or caches.
package engine
