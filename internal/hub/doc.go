// Package hub keeps the channels of one node: who is subscribed to what, and
// the fan-out of each publication to its subscribers.
//
// The hub knows nothing about sockets, brokers or JSON beyond the
// publication envelope. A subscriber is anything with a non-blocking Send.
// A publication is encoded once into a *frame.Prepared, a text frame holding
// {"ch":…,"seq":…,"data":…}, and that one pointer is handed to every
// subscriber of the channel. With the Codec given to New the frame is
// deflatable: its compressed twin is built once, for the first subscriber
// that negotiated permessage-deflate, and shared by all the others.
//
// # Ordering and deduplication
//
// Each channel has its own lock, held while a publication is handed to its
// subscribers, so every subscriber sees one channel's publications in the
// order Publish was called (publications of different channels are not
// ordered with each other). A subscription that resumes from a position
// (Subscribe with a backlog) is sent the backlog first, then live
// publications, and each subscription remembers the last (epoch, seq) it
// was sent so that a publication arriving both ways is delivered once.
//
// # Concurrency
//
// All methods of Hub are safe for concurrent use. Subscriber.Send and the
// backlog function run with a channel's lock held: they must not block and
// must not call the Hub, or they deadlock.
package hub
