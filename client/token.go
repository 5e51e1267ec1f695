package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/wsgate/wsgate/ws"
)

// authProtocolPrefix starts the subprotocol that carries a token in the
// handshake: "wsgate.auth.<token>". The server never selects it.
const authProtocolPrefix = "wsgate.auth."

// token calls Options.Token and checks that what it returns can travel
// as a subprotocol.
func (c *Client) token(ctx context.Context) (string, error) {
	tok, err := c.opts.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	if !validProtocol(tok) {
		return "", errors.New("token: empty, or not fit for a subprotocol (RFC 6455, section 4.1)")
	}
	return tok, nil
}

// validProtocol reports whether tok may follow authProtocolPrefix in
// Sec-WebSocket-Protocol: printable ASCII without separators (RFC 7230
// token characters). A JWT is.
func validProtocol(tok string) bool {
	if tok == "" {
		return false
	}
	for i := 0; i < len(tok); i++ {
		b := tok[i]
		if b <= ' ' || b >= 0x7f || isSeparator(b) {
			return false
		}
	}
	return true
}

func isSeparator(b byte) bool {
	switch b {
	case '(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '=', '{', '}':
		return true
	}
	return false
}

// refresh answers the node's {"auth":"refresh"} push on cn: it gets a
// fresh token and sends {"auth":"<token>"}, on a goroutine of cn's own,
// since Token may wait on a network. When Token fails, nothing is sent:
// the node closes the connection when the token in use expires (4008),
// and the next connection asks for a token again. Called on cn's reader
// goroutine, which keeps cn.wg above zero.
func (c *Client) refresh(cn *conn) {
	if c.opts.Token == nil {
		return
	}
	cn.wg.Go(func() {
		ctx, cancel := context.WithTimeout(c.ctx, c.opts.DialTimeout)
		defer cancel()
		go func() {
			select {
			case <-cn.lost:
				cancel()
			case <-ctx.Done():
			}
		}()
		tok, err := c.token(ctx)
		if err != nil {
			return
		}
		b, err := json.Marshal(struct {
			Auth string `json:"auth"`
		}{tok})
		if err != nil {
			return
		}
		_ = cn.send(ws.AppendMaskedFrame(make([]byte, 0, len(b)+ws.MaxHeaderSize), ws.OpText, true, 0, ws.NewMaskKey(), b))
	})
}
