// Package hub keeps the channels of one node: who is subscribed to what,
// this node's subscriptions to the broker, and the fan-out of each
// publication to its subscribers.
//
// The hub knows nothing about sockets or JSON beyond the publication
// envelope. A subscriber is anything with a non-blocking Send. A
// publication is encoded once into a *frame.Prepared, a text frame holding
// {"ch":…,"seq":…,"data":…,"epoch":…}, and that one pointer is handed to every
// subscriber of the channel. With the Codec given to New the frame is
// deflatable: its compressed twin is built once, for the first subscriber
// that negotiated permessage-deflate, and shared by all the others.
//
// # One owner for subscriptions
//
// The hub is the only record of subscriptions on a node. It subscribes the
// node to a channel on its Source (the broker) when the channel gets its
// first local subscriber and cancels that subscription when the last one
// leaves, so a node receives only the channels someone here reads, and
// never two copies of one. Deliveries from the Source are bound to the
// channel they were made for, so a late delivery of a cancelled
// subscription reaches nobody.
//
// # Ordering, resume and deduplication
//
// Each channel has its own lock, held while a publication is handed to its
// subscribers, so every subscriber sees one channel's publications in the
// order the Source delivers them (publications of different channels are
// not ordered with each other). A subscription starts pending: the
// backlog (the publications a resuming client missed, read from the
// broker's history) is read with no lock held, while live publications
// are held back for it; then, under the channel's lock, the subscriber is
// sent the answer to its request, the backlog and what was held back, and
// from then on live publications. Each subscription remembers the last
// (epoch, seq) it was sent, so a publication arriving both ways is
// delivered once.
//
// # Concurrency
//
// All methods of Hub are safe for concurrent use. Subscribe may block (on
// the Source and on the backlog, both of which may wait on a network): call
// it from a goroutine that may wait, never an event loop. Publish,
// Unsubscribe, UnsubscribeAll, Subscribers, Stats and Close never block on
// anything but the hub's own short locks. Subscriber.Send, Backlog.Start
// and the Source's deliveries run with a channel's lock held: they must
// not block and must not call the Hub, or they deadlock.
package hub
