// Package backend calls methods on an HTTP backend: the upstream of a
// wsgate call when the server runs with --backend URL.
//
// # Exchange
//
// A call of method m with args a is
//
//	POST URL/m
//	Content-Type: application/json
//	X-Wsgate-User: <identity>        (only when the caller has one)
//
//	a                                (or {} when the call has no args)
//
// A 2xx reply's body is the result. It must be valid JSON of at most
// Config.MaxResponseSize bytes; a 204 reply means null. Its Cache-Control
// and Age fields are parsed into a CacheControl that travels with the
// result, so the response cache can decide how long to keep it.
//
// # Errors
//
// Every failure is an *Error with a Code that is one of the wire error codes
// of the /ws contract:
//
//	404                  not_found
//	400, 422, other 4xx  bad_request
//	401, 403             forbidden
//	413                  too_large
//	429                  rate_limited
//	5xx, 3xx             unavailable
//	deadline passed      timeout       (Config.Timeout or the caller's context)
//	unreachable, refused unavailable
//	too many in flight   unavailable   (after waiting Config.QueueTimeout)
//	not JSON, too large  unavailable   (and a log line)
//
// When an error reply's body is {"error":{"message":"…"}}, {"error":"…"} or
// {"message":"…"}, that message becomes Error.Message, cut to MaxMessageLen
// bytes; otherwise the message is generic. Garbage from the backend never
// makes a call panic or hang beyond its timeout.
//
// # Connection hook
//
// With --auth backend the server asks the backend who a connecting client
// is (Client.Connect):
//
//	POST URL/_connect
//	Content-Type: application/json
//	Cookie: …                        (and the fields of --auth-forward-headers)
//
//	{"remote":"203.0.113.7","token":"…"}   (token only when the client sent one)
//
// A token sent in a message, after the handshake, comes alone:
// {"token":"…"}, without the header fields or the remote address.
//
// and maps its answer:
//
//	200 {"user":"alice","expires":N,"permissions":{…},"info":{…}}   an Identity
//	401                  ErrUnauthorized (the credentials are not valid)
//	403                  ErrForbidden    (valid, but not allowed in)
//	anything else        the hook could not say: another status, a body
//	                     that is not such an object or larger than
//	                     MaxConnectReply, no connection, no answer in time
//
// Only "user" is required; "expires" is in Unix seconds. Identical
// requests in flight at once share one hook request. Method names that
// start with '_' belong to wsgate: clients cannot call them.
//
// # Connections
//
// A Client keeps up to Config.MaxConcurrent idle keep-alive connections and
// lets at most that many calls run at once; more wait up to
// Config.QueueTimeout for a slot. Redirects are not followed.
//
// # Concurrency
//
// A Client is safe for concurrent use and starts no goroutines of its own
// beyond those of its http.Transport, which end when Close closes the idle
// connections.
package backend
