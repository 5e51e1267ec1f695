// Package natsbroker is the wsgate.Broker of a cluster: wsgate nodes
// that share one NATS system carry each other's publications, number
// them the same way and keep each channel's history in JetStream, so a
// client may resume on any node, a restarted one included.
//
// It is the only package of wsgate that imports the NATS client: a
// program that embeds wsgate without it does not build NATS in.
//
//	b, err := natsbroker.New(natsbroker.Options{URL: "nats://127.0.0.1:4222"})
//	srv, err := wsgate.New(wsgate.Config{Broker: b})
//	…
//	srv.Shutdown(ctx)
//	b.Close()
//
// # Subjects
//
// A channel name becomes one NATS subject token (encodeToken): letters,
// digits and "-_:/" stay, every other byte is written %XX, as in a URL,
// so "market.ACME" is "market%2EACME" and "$wsgate.cache.invalidate" is
// "%24wsgate%2Ecache%2Einvalidate". The map is one to one and its result
// is always one valid token, whatever the name ("a..b" included, whose
// dots as NATS separators would make an empty token). Channels are not
// NATS hierarchies, so nothing is lost by keeping each in one token.
//
// Publications are stored on PREFIX.ch.TOKEN ("wsgate.ch.room%2E1") in
// ONE stream (Options.Stream, "WSGATE") for every channel, however many
// there are: MaxMsgsPerSubject is the history size per channel and
// MaxAge its age. The stream republishes each publication once stored to
// PREFIX.live.TOKEN, and that is what nodes subscribe to.
//
// # Numbering: seq and epoch
//
// Each stored publication carries its channel's Seq and Epoch in headers
// (Wsgate-Seq, Wsgate-Epoch). A node publishes with JetStream's
// optimistic check Nats-Expected-Last-Subject-Sequence: the stream
// sequence of the channel's last publication as this node knows it
// (remembered per channel after its own publishes and reads). Another
// node that published in between makes the check fail; the node then
// reads the channel's last publication (a direct get) and tries again
// with the Seq after it. So Seq grows by one with every publication on a
// channel, whichever node made it, without a gap. A node's own publishes
// on one channel go one at a time, so conflicts happen only between
// nodes (or when the channel's history has just expired).
//
// A channel that has no publication in the stream (a new one, or one
// whose history expired by age, or a stream NATS lost) starts a new
// random epoch at Seq 1, so a client that resumes from the old epoch is
// told recovered:false: its gap is unknown, not hidden. Two nodes that
// start an epoch at once both expect "no last publication"; one wins, the
// other reads the winner's epoch and numbers after it.
//
// This was chosen over the alternatives because it keeps the stream the
// only place of truth, needs no leader and no per-channel state on the
// servers but the stream's own per-subject index: a sequence kept in a
// key-value bucket would add a round trip per publication and a second
// place to keep in step; a JetStream consumer per channel and node would
// put state on the servers for every channel with local subscribers. The
// cost is a publish round trip to the stream (acknowledged before Publish
// returns) and a retry on a conflict. The acknowledgements of all
// publications come back on one subscription (acks.go), each to a reply
// subject of its own. Measured with BenchmarkPublish beside
// BenchmarkRawJetStream (one node, NATS in the same process on 2 cores):
// about 17,000 publications a second on one channel, whose rate the round
// trip bounds, and 51,000 spread over 100,000 channels by 512
// publishers, 41 % of what JetStream alone does with asynchronous
// publishes (the README has the runs). The alternatives were reasoned
// about, not measured.
//
// # Delivery: order, duplicates and gaps
//
// A node subscribes (core NATS, no consumer) to a channel's live subject
// only while the channel has local subscribers: the hub subscribes on
// the first and cancels on the last. What arrives there was stored
// first, in the stream's order, so every node sees one channel's
// publications in the same order with the same Seq, whoever published
// them. Messages of all channels are handed out by one goroutine per CPU
// (a channel always to the same one), through a bounded queue.
//
// A subscription delivers the publication after the last it delivered
// (same epoch, Seq+1) and drops one it delivered already. Core NATS may
// lose messages (a node that falls behind, a reconnection): a Seq past
// the next one shows the gap, and the subscription then reads the stream
// from where it is, on a goroutine of its own, delivering in order until
// it has caught up; meanwhile live messages are not kept (the stream has
// them), so a gap costs no memory. What the stream no longer holds is
// skipped: the client sees the jump in seq. A gap shows even when
// nothing of the channel comes after it: NATS reports a node that falls
// behind and counts what it drops per subscription, and such a
// subscription is caught up from the stream once its queue has drained
// (shard.go). After a reconnection every subscription is caught up the
// same way, so the publications of the outage reach it too.
//
// History reads are JetStream direct gets, which any server holding the
// stream answers without a consumer: the channel's last publication, or
// all it retains in one batched get. When many clients of a channel
// resume at once (a node restarted, a network blip), History calls for
// the same channel share reads: the calls that arrive while one read
// runs are all served by the next one.
//
// # Without JetStream, and the server's channels
//
// With NATS servers that have no JetStream, New logs so once and the
// Broker carries publications live only: they have Seq 0 (not numbered;
// the hub never deduplicates them), History has position 0 and resuming
// clients get recovered:false. The server's own channels, whose names
// start with '$' (cache invalidations, on $wsgate.cache.invalidate), are
// always live only: they need neither number nor history, and skipping
// the stream spares them a round trip and a conflict.
//
// # Faults
//
// The connection reconnects for ever (Options.ReconnectWait between
// attempts), and NATS restores its subscriptions. While it is down
// Publish, Subscribe and History fail at once with ErrUnavailable (a
// client is answered unavailable; nothing is buffered to be sent later,
// so nothing grows), Ready returns an error, and so the wsgate server's
// /readyz answers 503. At most Options.MaxPending publications wait for
// NATS at once.
//
// # Concurrency
//
// A Broker is safe for concurrent use. Publish, History and Subscribe
// may wait on NATS, bounded by their context and Options.RequestTimeout;
// the cancel function Subscribe returns never waits. deliver is called
// from the Broker's goroutines, for one channel never concurrently with
// itself. Close stops every goroutine the Broker started and waits for
// them.
package natsbroker
