package e2e

import (
	"context"
	"fmt"
)

// msgKind is the type of a data message.
type msgKind int

const (
	kindText msgKind = iota + 1
	kindBinary
)

func (k msgKind) String() string {
	switch k {
	case kindText:
		return "text"
	case kindBinary:
		return "binary"
	}
	return fmt.Sprintf("msgKind(%d)", int(k))
}

// goConn is what a case needs from a client connection. The gorilla and
// coder adapters implement it with each library's own public API, so the
// library, not this package, frames and parses the bytes on the wire.
//
// A goConn is used by one goroutine at a time.
type goConn interface {
	// Subprotocol is the subprotocol the server selected, or "".
	Subprotocol() string
	// Write sends p as one message.
	Write(ctx context.Context, k msgKind, p []byte) error
	// WriteFragments sends the concatenation of parts as one message of
	// several frames; the adapter's doc says where the library cuts them.
	WriteFragments(ctx context.Context, k msgKind, parts [][]byte) (detail string, err error)
	// Read returns the next data message. The bytes belong to the caller.
	Read(ctx context.Context) (msgKind, []byte, error)
	// Ping sends a ping and returns once a pong with the same payload
	// arrived. Data messages that arrive first are discarded.
	Ping(ctx context.Context, payload []byte) (detail string, err error)
	// CloseHandshake sends a close frame and waits for the server's. It
	// fails when the server's close frame has another code; the reason
	// need not be echoed (RFC 6455, section 5.5.1) and is only reported.
	CloseHandshake(ctx context.Context, code int, reason string) (detail string, err error)
	// Extensions is the server's Sec-WebSocket-Extensions response, or "".
	Extensions() string
	// Abort closes the connection without a close handshake. It is safe
	// to call more than once and after CloseHandshake.
	Abort()
}

// goClient is one Go WebSocket library, with or without compression.
type goClient struct {
	name string
	// deflate says the client offers permessage-deflate (RFC 7692).
	deflate bool
	dial    func(ctx context.Context, url string, subprotocols []string) (goConn, error)
}

// goClients lists the Go libraries in the matrix, each once without and
// once with compression offered.
func goClients() []goClient {
	return []goClient{
		{name: "gorilla", dial: dialGorilla(false)},
		{name: "coder", dial: dialCoder(false)},
		{name: "gorilla-deflate", deflate: true, dial: dialGorilla(true)},
		{name: "coder-deflate", deflate: true, dial: dialCoder(true)},
	}
}

// closeDetail reports the server's close frame; sent is the client's reason.
func closeDetail(code int, reason, sent string) string {
	if reason == sent {
		return fmt.Sprintf("server echoed %d %q", code, reason)
	}
	return fmt.Sprintf("server echoed %d with reason %q (sent %q)", code, reason, sent)
}
