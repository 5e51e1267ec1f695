package e2e

import (
	"context"
	"fmt"

	"github.com/coder/websocket"
)

// coderReadLimit is the largest message the coder client accepts, in
// bytes; its own default is 32 KiB.
const coderReadLimit = 32 << 20

// coderConn adapts a coder/websocket client connection to goConn.
//
// coder sends each Write on a message writer as one frame, so
// WriteFragments puts one part in each frame.
//
// With compression coder offers permessage-deflate with context takeover;
// the server answers server_no_context_takeover and
// client_no_context_takeover, which coder must accept.
type coderConn struct {
	c    *websocket.Conn
	exts string
}

// dialCoder returns a dial function; deflate offers compression.
func dialCoder(deflate bool) func(ctx context.Context, url string, subprotocols []string) (goConn, error) {
	return func(ctx context.Context, url string, subprotocols []string) (goConn, error) {
		mode := websocket.CompressionDisabled
		if deflate {
			mode = websocket.CompressionContextTakeover
		}
		c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: subprotocols, CompressionMode: mode})
		var exts string
		if resp != nil {
			exts = resp.Header.Get("Sec-WebSocket-Extensions")
			if resp.Body != nil {
				resp.Body.Close()
			}
		}
		if err != nil {
			return nil, fmt.Errorf("coder dial %s: %w", url, err)
		}
		c.SetReadLimit(coderReadLimit)
		return &coderConn{c: c, exts: exts}, nil
	}
}

func (c *coderConn) Extensions() string { return c.exts }

func (c *coderConn) Subprotocol() string { return c.c.Subprotocol() }

func coderType(k msgKind) websocket.MessageType {
	if k == kindBinary {
		return websocket.MessageBinary
	}
	return websocket.MessageText
}

func (c *coderConn) Write(ctx context.Context, k msgKind, p []byte) error {
	return c.c.Write(ctx, coderType(k), p)
}

func (c *coderConn) WriteFragments(ctx context.Context, k msgKind, parts [][]byte) (string, error) {
	w, err := c.c.Writer(ctx, coderType(k))
	if err != nil {
		return "", err
	}
	n := 0
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return "", err
		}
		n += len(p)
	}
	return fmt.Sprintf("%d bytes in %d frames", n, len(parts)), w.Close()
}

func (c *coderConn) Read(ctx context.Context) (msgKind, []byte, error) {
	t, p, err := c.c.Read(ctx)
	if err != nil {
		return 0, nil, err
	}
	if t == websocket.MessageBinary {
		return kindBinary, p, nil
	}
	return kindText, p, nil
}

// Ping ignores payload: coder picks its own ping payload and returns only
// once a pong carries the same bytes. The connection stops reading data
// messages afterwards (coder needs a reader running while it pings).
func (c *coderConn) Ping(ctx context.Context, _ []byte) (string, error) {
	c.c.CloseRead(ctx)
	if err := c.c.Ping(ctx); err != nil {
		return "", err
	}
	return "pong matched coder's own ping payload", nil
}

// CloseHandshake relies on coder's Close, which reports success only when
// the server's close frame carries the same code; the reason it received
// is not exposed.
func (c *coderConn) CloseHandshake(ctx context.Context, code int, reason string) (string, error) {
	err := c.c.Close(websocket.StatusCode(code), reason)
	if err != nil {
		return "", fmt.Errorf("close %d: server answered %v: %w", code, websocket.CloseStatus(err), err)
	}
	return fmt.Sprintf("server echoed %d (coder does not expose the reason)", code), nil
}

func (c *coderConn) Abort() { c.c.CloseNow() }
