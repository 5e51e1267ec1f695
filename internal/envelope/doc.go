// Package envelope reads and writes the JSON messages exchanged on /ws.
//
// A client sends one request per text frame:
//
//	{"id":1,"call":"market.history","args":{"symbol":"ACME"}}
//	{"id":2,"sub":"ticks"}
//	{"id":5,"sub":"ticks","since":{"seq":41,"epoch":"e1"}}
//	{"id":3,"pub":"chat","data":{"text":"hi"}}
//	{"id":4,"unsub":"ticks"}
//	{"auth":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"}
//
// and the server answers with a result or an error carrying the same id, or
// pushes a publication:
//
//	{"id":1,"result":{}}
//	{"id":1,"error":{"code":"not_found","message":"no such method"}}
//	{"ch":"ticks","seq":42,"data":{},"epoch":"5e0c3b1a"}
//
// Parse enforces these rules, and answers anything else with an *Error whose
// Code is "bad_request":
//
//   - The message is exactly one JSON object; whitespace may surround it,
//     nothing else may follow it.
//   - Field names match exactly (case-sensitive, after JSON unescaping). A
//     field given twice is rejected. Unknown fields are ignored.
//   - "id" is optional. When present it is a JSON number or string of at
//     most MaxIDLen bytes as written, and it is echoed back byte for byte.
//   - Exactly one of "call", "sub", "unsub", "pub" and "auth" is present,
//     and its value is a string that ValidName accepts; for "auth" a token
//     of 1 to MaxTokenLen bytes, checked by whoever authenticates, not
//     here.
//   - "args" belongs to call, "data" to pub (where it is required) and
//     "since" to sub; each is rejected next to another kind (a null one
//     too, next to auth). An "args" or
//     "since" of null counts as absent.
//   - "since" is an object with "seq", an unsigned 64-bit integer, and an
//     optional "epoch" string, which may be empty.
//
// Parse does not check UTF-8: RFC 6455 requires text frames to be valid
// UTF-8, and the connection layer rejects frames that are not before a
// message reaches this package. Strings Parse decodes (names, the epoch)
// are valid UTF-8 all the same: invalid bytes become U+FFFD, as with
// encoding/json. Raw values (id, args, data) are passed through unchanged.
//
// The Append functions write replies and publications by hand, without
// reflection and without allocating when dst has room. All functions in this
// package are safe for concurrent use.
package envelope
