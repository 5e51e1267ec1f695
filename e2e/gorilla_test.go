package e2e

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gorilla/websocket"
)

// gorillaConn adapts a gorilla/websocket client connection to goConn.
//
// gorilla writes a message through its 4096-byte write buffer: a message
// longer than that leaves as several frames, each as long as the buffer.
//
// With compression gorilla offers permessage-deflate without context
// takeover and, once accepted, compresses every message it sends.
type gorillaConn struct {
	c    *websocket.Conn
	exts string
}

// dialGorilla returns a dial function; deflate offers compression.
func dialGorilla(deflate bool) func(ctx context.Context, url string, subprotocols []string) (goConn, error) {
	return func(ctx context.Context, url string, subprotocols []string) (goConn, error) {
		d := websocket.Dialer{Subprotocols: subprotocols, EnableCompression: deflate}
		c, resp, err := d.DialContext(ctx, url, nil)
		var exts string
		if resp != nil {
			exts = resp.Header.Get("Sec-WebSocket-Extensions")
			if resp.Body != nil {
				resp.Body.Close()
			}
		}
		if err != nil {
			return nil, fmt.Errorf("gorilla dial %s: %w", url, err)
		}
		// The default handler answers the server's close frame; the cases
		// check that frame instead.
		c.SetCloseHandler(func(int, string) error { return nil })
		return &gorillaConn{c: c, exts: exts}, nil
	}
}

func (g *gorillaConn) Extensions() string { return g.exts }

func (g *gorillaConn) Subprotocol() string { return g.c.Subprotocol() }

func gorillaType(k msgKind) int {
	if k == kindBinary {
		return websocket.BinaryMessage
	}
	return websocket.TextMessage
}

func deadline(ctx context.Context) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Now().Add(time.Minute)
	}
	return d
}

func (g *gorillaConn) Write(ctx context.Context, k msgKind, p []byte) error {
	g.c.SetWriteDeadline(deadline(ctx))
	return g.c.WriteMessage(gorillaType(k), p)
}

func (g *gorillaConn) WriteFragments(ctx context.Context, k msgKind, parts [][]byte) (string, error) {
	g.c.SetWriteDeadline(deadline(ctx))
	w, err := g.c.NextWriter(gorillaType(k))
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
	return fmt.Sprintf("%d bytes through gorilla's 4096-byte write buffer, so %d frames", n, (n+4095)/4096), w.Close()
}

func (g *gorillaConn) Read(ctx context.Context) (msgKind, []byte, error) {
	g.c.SetReadDeadline(deadline(ctx))
	t, p, err := g.c.ReadMessage()
	if err != nil {
		return 0, nil, err
	}
	if t == websocket.BinaryMessage {
		return kindBinary, p, nil
	}
	return kindText, p, nil
}

// errPong stops gorilla's read loop once the awaited pong has arrived.
var errPong = errors.New("e2e: pong received")

func (g *gorillaConn) Ping(ctx context.Context, payload []byte) (string, error) {
	var got []byte
	g.c.SetPongHandler(func(data string) error {
		got = []byte(data)
		return errPong
	})
	if err := g.c.WriteControl(websocket.PingMessage, payload, deadline(ctx)); err != nil {
		return "", err
	}
	g.c.SetReadDeadline(deadline(ctx))
	for {
		_, _, err := g.c.ReadMessage()
		if errors.Is(err, errPong) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("waiting for pong: %w", err)
		}
	}
	if d := diffBytes(payload, got); d != "" {
		return "", fmt.Errorf("pong payload: %s", d)
	}
	return fmt.Sprintf("pong carried the %d-byte ping payload", len(payload)), nil
}

func (g *gorillaConn) CloseHandshake(ctx context.Context, code int, reason string) (string, error) {
	msg := websocket.FormatCloseMessage(code, reason)
	if err := g.c.WriteControl(websocket.CloseMessage, msg, deadline(ctx)); err != nil {
		return "", err
	}
	g.c.SetReadDeadline(deadline(ctx))
	for {
		_, _, err := g.c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			return "", fmt.Errorf("waiting for the server's close frame: %w", err)
		}
		if ce.Code != code {
			return "", fmt.Errorf("server closed with %d %q, want %d", ce.Code, ce.Text, code)
		}
		return closeDetail(ce.Code, ce.Text, reason), nil
	}
}

func (g *gorillaConn) Abort() { g.c.Close() }
