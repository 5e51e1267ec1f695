// Package client is the Go client of a wsgate cluster: it finds the
// nearest node, speaks the /ws envelope (calls, subscriptions,
// publications) and keeps working when nodes fail.
//
//	c, err := client.Dial(ctx, []string{"https://eu.example.com", "https://us.example.com"}, client.Options{})
//	result, err := c.Call(ctx, "market.history", map[string]any{"symbol": "ACME"})
//	sub, err := c.Subscribe(ctx, "ticks", func(m client.Message) { … })
//	seq, err := c.Publish(ctx, "chat", map[string]string{"text": "hi"})
//
// # Choosing a node
//
// Dial asks the seeds for the cluster's nodes (GET /edge/nodes) and times
// the nodes listed and the seeds, several times each, all in parallel
// (GET /edge/ping, or /healthz on a node without it); a node reached at
// two URLs counts once, by the id its /edge/ping gives.
// It connects to the node with the lowest median round trip; nodes within
// a margin of it (Options.SwitchMargin and SwitchRatio) count as equals,
// and of those the one with the fewest connections wins. A draining node
// is never chosen. Every Options.ReprobeInterval the nodes are timed
// again, and the client moves only to a node clearly nearer than its own
// (by both margins), so that clients do not flap between similar nodes.
// It connects to that node before it leaves the old one, which still
// answers the requests waiting on it.
// With Options.StateFile, the chosen node is remembered across restarts.
//
// # Failures
//
// When the connection ends, the client reconnects to the next nearest
// node after a jittered exponential backoff (Options.BackoffMin,
// BackoffMax), going round the nodes in rounds: within a round a node
// that fails is followed at once by the next, and the wait grows with
// each round in which all failed, after which the nodes are timed again. The attempt count starts over after a connection
// that stayed up 2s, so a network that drops every few seconds keeps the
// waits short while a node that drops its clients on connect sees them
// back off. A node that closes with 1012 (service restart,
// sent while it drains) is left at once, without a backoff. On each new
// connection every subscription is restored from the last publication its
// handler was given (a sub with "since"): handlers see each publication
// exactly once, in order, or a Message of KindGap where the server could
// no longer replay what was missed. Calls and publications waiting for a
// connection go out on the next one; those sent on a connection that is
// lost fail with ErrConnectionLost, since they may or may not have run.
//
// # Tokens
//
// With Options.Token, every connection attempt offers a token as the
// subprotocol "wsgate.auth.<token>", which the node checks during the
// handshake (401 when it refuses it). When the node asks for a fresh
// token ahead of the expiry ({"auth":"refresh"}), the client calls Token
// again and sends {"auth":"<token>"}. A connection closed over its token
// (4001, 4003, 4008, 4009) reports the code in StateDisconnected's Err,
// a *ws.CloseError, and the next attempt gets a new token.
//
// # Compression
//
// The client offers permessage-deflate (RFC 7692) without context
// takeover, so the server may compress what it sends and each message
// inflates on its own; its own messages go out plain.
// Options.DisableCompression turns the offer off.
//
// # Concurrency
//
// A Client's methods are safe for concurrent use. Each connection has one
// reader and one writer goroutine, and one more while it asks Token for
// a fresh token; the Client has a supervisor goroutine
// and a dispatcher that calls the handlers and Options.OnState one at a
// time, in order. Close stops and waits for all of them.
package client
