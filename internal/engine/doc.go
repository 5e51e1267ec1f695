// Package engine owns WebSocket connections after the opening handshake:
// it reads bytes, decodes frames with ws.Reader, answers control frames,
// hands whole messages to a Handler, and writes through a bounded
// per-connection queue.
//
// Two engines share one connection state machine: Conn (conn.go, read.go,
// queue.go) keeps the closing handshake, the write queue and its
// slow-consumer policy, keep-alive pings and idle timeouts, the cause
// handed to OnClose and the Context. What differs is a Conn's transport
// (transport.go), an unexported interface with one implementation per
// engine; each embeds the Conn it runs, so a connection is one allocation.
//
//   - Goroutine (goroutine.go, goConn): one goroutine reads a connection
//     and one writes what its queue holds, several frames per system
//     call. It runs on every system and serves TLS.
//   - Epoll (epoll_linux.go, conn_epoll_linux.go, epollConn; Linux only):
//     GOMAXPROCS event loops own the sockets. An idle connection is a
//     small struct: no goroutine, no buffer, no timer. Reads go into one
//     buffer per loop; a connection keeps a decoder (and its bytes) only
//     while a frame or fragmented message is partial. WriteMessage and
//     WriteParts go to the socket at once from the writing goroutine;
//     what does not fit waits as references to the frames and is sent
//     with writev when the socket drains. WriteFrame (a prepared frame,
//     shared by a publication's subscribers) is queued by reference and
//     written by the loop on its next turn, so a publisher pays a queue
//     append per connection and the loops write in parallel. While the
//     loop handles a connection's input, writes to that connection (the
//     Handler's replies) wait and leave together in one writev once the
//     read is done. One sweep per loop applies every timeout. The loops
//     are the Engine's loopGroup, made by New for Kind Epoll.
//   - Uring (uring_linux.go, uring_read_linux.go, uring_write_linux.go;
//     Linux only): the same loops, connections and queues, but a loop
//     learns what its sockets did from an io_uring ring instead of epoll
//     (loopIO, epollio_linux.go, is the seam between the two). Each
//     connection has a multishot recv into the loop's provided buffers
//     (an idle connection still holds none) and a multishot POLLOUT
//     poll; what the loop writes (the batched replies, WriteFrame's
//     frames, a drained socket's queue) becomes sendmsg requests that
//     leave with the one io_uring_enter ending the turn, so a fan-out to
//     thousands is a few system calls. Other goroutines still write a
//     socket directly with writev when nothing waits for it. Each loop
//     owns a ring set up with COOP_TASKRUN and parks in Go's runtime
//     poller on the ring's eventfd (uring.Ring.Wait), as the epoll loop
//     does on its epoll descriptor, so a waiting loop holds no P
//     (uring_linux.go says why not SINGLE_ISSUER and DEFER_TASKRUN).
//     Where the kernel refuses io_uring, New (or
//     the first loop) falls back to Epoll and logs one line.
//
// Alarms (alarm.go): a Handler that is an AlarmHandler may set one
// deadline per connection (Conn.SetAlarm, from any goroutine); OnAlarm
// then runs on the connection's reader like its other methods. The alarm
// is a field of Conn applied with the keep-alive checks (keepAlive): the
// epoll sweep, or the goroutine reader's read deadline. No timer.
//
// Every byte queued for a peer is bounded: data frames by
// Options.MaxQueuedBytes (past it the peer is not read, so TCP pushes back
// on it; if it does not catch up in time, or its queue would reach twice
// the limit, it is a slow consumer, closed with 1008: backpressure.go), pings and pongs by 4 KiB (past it a pong replaces the last one
// waiting, as RFC 6455 section 5.5.3 allows), so a peer that sends pings
// without reading cannot grow the queue.
//
// Off Linux only the goroutine engine is built: Epoll and Uring are not Supported
// and kind_other.go declares that there are no loops.
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
// Input budget (budget.go): Options.MaxBufferedInput bounds, for the
// whole Engine, the bytes decoders hold of partial messages plus what the
// Engine's users reserve (ReserveInput: call arguments, queued
// publications). While it is spent a connection holding a partial message
// is not read (epoll: it waits on its loop's paused list, read again when
// bytes are freed or at the sweep; goroutine: its reader waits on the
// budget, keeping its timeouts), except the one holding the budget's
// lease, which finishes its message so that the budget cannot deadlock;
// connections between messages are read a few hundred bytes at a time.
//
// Locks, in the order they are taken: a ctxStream's mu, Conn.mu, then a
// loop's mu; Engine.mu, then a loop's mu. A function named …Locked needs
// the lock its comment names held, most often Conn.mu. Nothing that holds
// a loop's mu takes another lock.
//
// The engine knows nothing about JSON, channels or caches.
package engine
