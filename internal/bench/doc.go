// Package bench is "wsgate bench", a load generator for any WebSocket
// server, built on wsgate's own client side of RFC 6455 (ws.Dial,
// ws.AppendMaskedFrame and a client-side ws.Reader).
//
// The subcommands share one harness (failover dials Go clients instead of
// raw connections):
//
//   - conns opens and holds N idle connections and reports the
//     handshake rate of the storm (and, with --server-pid, the server's
//     RSS growth per connection, also at each of --steps on the way);
//   - echo runs C connections that each send messages of B bytes to an
//     echo endpoint, closed loop or --inflight K pipelined, and checks
//     every reply byte for byte;
//   - call sends {"id":n,"call":M,"args":A} on wsgate's /ws and matches
//     each reply by id, counting error codes;
//   - fanout subscribes N connections to a channel of /ws and publishes
//     at a fixed rate (through /api/publish or a pub on /ws), measuring
//     delivery latency from a timestamp carried in the payload. With
//     --drop-every (drop mode, drop.go) the subscribers are Go clients
//     instead, each with a network of its own (its Options.NetDial) that
//     goes down on a schedule: its connections reset (SO_LINGER 0, an
//     RST and no Close frame) and its dials refused for --drop-for. The
//     clients resume with since by themselves; the publisher of failover
//     numbers its publications, and the report gives the delivered share
//     of what was acknowledged, duplicates, reorderings, gaps (and
//     resumes answered recovered:false) and the time from the end of a
//     drop to the first publication after it and to catching up. It
//     fails on a loss that no gap explains, a duplicate or a reordering;
//   - failover dials N clients of package client (wsgate's Go client,
//     default options, --url as its seeds), each subscribed to one
//     channel, and a client of its own that publishes {"n":N} at --rate.
//     Someone kills or drains a node meanwhile (--ready-file names the
//     node most clients chose, for a script); the report gives the
//     clients that lost their connection and moved, the time from the
//     first disconnection to each one's new connection and to its first
//     publication there (p50/p99/max), the publications lost, duplicated
//     or out of order over all subscribers (counted by N against the
//     acknowledged ones), and the clients per node before and after. It
//     exits with an error when a client did not resume or a publication
//     was lost, repeated or reordered.
//
// A connection sends the messages due at once (the first --inflight, or
// the replacements for the replies of one read) in one write; with
// --write-each (echo, call) it writes each message on its own, as a
// browser does, so a server cannot answer a batch with one write.
//
// Every run has a warmup, then a measured window (--duration). Latency
// goes into HdrHistogram with 3 significant digits; the summary gives
// msgs/s and p50/p99/p99.9. The summary keeps two windows apart, each
// under its heading: the figures of the measured window, and the counts
// checked on every message of the whole run, warm-up included (replies
// verified, error codes, missed deliveries, errors; "whole_run" in
// --json). With --server-pid the server's CPU time
// (user+sys, from /proc/PID/stat) over the measured window and its RSS
// (from /proc/PID/status) are reported too, as CPU µs per message and
// messages per CPU-second. --json prints one JSON object instead of the
// text summary; a progress line goes to stderr every second.
//
// echo --payload json sends JSON objects of quote records, exactly
// --size bytes, compressible like real API traffic and different in
// every message (its sequence number, prices and volumes change), so
// compression can be measured on realistic messages.
//
// With --deflate every connection offers permessage-deflate (RFC 7692,
// wsflate.ClientOffer), fails when the server declines, sends each
// message compressed when that shrinks it and inflates the server's
// compressed messages before checking them.
//
// # Limits
//
// Targets must be loopback addresses unless --allow-remote is given.
// Connections are spread over source addresses 127.0.0.1–127.0.0.N
// (--source-ips) so ephemeral ports do not run out. When the process
// reaches its open-file limit (socket() fails with EMFILE or ENFILE) or
// the kernel has no local port left, the storm stops and the error says
// so in plain words (ErrOpenFileLimit, ErrPortsExhausted). Runs are
// bounded: at most MaxConns connections and MaxDuration per window.
//
// # Concurrency
//
// Main may be called from several goroutines; each call owns the
// goroutines it starts (one per connection, plus a progress ticker and a
// publisher for fanout) and waits for all of them before returning.
package bench
