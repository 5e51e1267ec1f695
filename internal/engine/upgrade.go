package engine

import (
	"net/http"

	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// Upgrade runs the opening handshake of r with up and serves the
// connection with h (see Serve). When the engine has a Codec
// (Options.Codec), the Codec negotiates permessage-deflate in place of
// up.NegotiateExtensions; up itself is not modified. An answer that
// grants server context takeover reserves one of the Codec's context
// slots (wsflate.Codec.Negotiate), and Upgrade settles it: the slot is
// freed at once when the handshake fails after negotiating or Serve
// refuses the connection, and otherwise when the connection ends.
//
// The error is the handshake's (a *ws.HandshakeError when the request was
// answered with an HTTP error) or Serve's; h is called only when Upgrade
// returns nil. Like Serve, Upgrade returns once the connection is handed
// over, not when it ends.
func (e *Engine) Upgrade(w http.ResponseWriter, r *http.Request, up *ws.Upgrader, h Handler) error {
	codec := e.opts.Codec
	if codec == nil {
		nc, br, _, err := up.Upgrade(w, r)
		if err != nil {
			return err
		}
		return e.Serve(nc, br, h, wsflate.Params{})
	}
	var p wsflate.Params
	u := *up
	u.NegotiateExtensions = func(offers []string) (string, error) {
		var resp string
		resp, p = codec.Negotiate(offers)
		return resp, nil // a declined offer does not fail the handshake
	}
	nc, br, _, err := u.Upgrade(w, r)
	if err != nil {
		codec.Release(p)
		return err
	}
	return e.Serve(nc, br, h, p) // Serve releases p when it refuses nc
}
