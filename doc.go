// Package wsgate is a WebSocket server for real-time features: calls
// answered by your backend, channels with numbered publications that
// clients can resume after a reconnect, and an echo endpoint, behind one
// HTTP handler. It runs as the wsgate binary in front of any backend, or
// embedded in a Go program through this package.
//
// # Wire contract
//
// On /ws each text frame holds one JSON object:
//
//	→ {"id":1,"call":"market.history","args":{"symbol":"ACME"}}
//	← {"id":1,"result":{…}}  or  {"id":1,"error":{"code":"not_found","message":"…"}}
//	→ {"id":2,"sub":"ticks"}                       ← {"id":2,"result":{"seq":41,"epoch":"…"}}
//	→ {"id":5,"sub":"ticks","since":{"seq":41,"epoch":"…"}}   (resume: missed publications first)
//	→ {"id":3,"pub":"chat","data":{…}}             ← {"id":3,"result":{"seq":7}}
//	→ {"id":4,"unsub":"ticks"}                     ← {"id":4,"result":{}}
//	← {"ch":"ticks","seq":42,"data":{…},"epoch":"…"} (a publication, pushed)
//
// A malformed request gets an error reply and the connection stays open;
// a frame that breaks RFC 6455 closes the connection with the RFC's code
// (1002 protocol error, 1007 invalid UTF-8, 1009 message too big).
//
// # Concurrency
//
// A Server and its methods are safe for concurrent use. An event loop
// never waits: what it runs for a connection (decoding the envelope,
// answering a cache hit, queueing a reply) returns at once, and whatever
// may wait on a network runs on a goroutine. Calls run on goroutines of
// their own, up to Config.MaxCallsPerConn per connection; a CallFunc may
// block (on a database, say) and must honour its context. A connection's
// sub, unsub and pub requests, which ask the Broker, run one at a time in
// the order sent on a goroutine of that connection (its lane), so a
// Broker that stalls holds up only the requests waiting for it. The
// Broker's deliver callbacks and the cancel functions of its
// subscriptions run on loops and must not block (see Broker).
// Config.Authenticate runs on the handshake's goroutine, or on a
// goroutine of its own for a token sent as a message;
// Config.AuthenticateHandshake on the handshake's goroutine. A
// connection's token deadlines are alarms its loop rings, not timers.
//
// # Authentication
//
// With Config.Authenticate, /ws takes a token first (in the handshake, or
// as {"auth":"TOKEN"}), asks for a fresh one before it expires, and closes
// with CloseAuthRequired, CloseTokenInvalid, CloseTokenExpired or
// CloseAuthTimeout when it must. Config.AuthenticateHandshake checks the
// whole handshake request first (a session cookie, say) and may leave the
// connection to a token. IdentityFromContext tells a CallFunc or
// CanPublish who called. Method names starting with '_' are wsgate's:
// clients cannot call them.
// Everything sent to one connection goes through a bounded queue, so any
// goroutine may publish at any time, and a client that does not read is
// closed (1008) rather than allowed to grow the server's memory.
//
// # Lifecycle
//
// New builds a Server, Handler mounts it, Shutdown stops it gracefully
// (running calls finish, every connection is closed with 1001) and Close
// stops it at once. Shutdown does not stop the http.Server the handler is
// mounted on: shut that down too.
package wsgate
