package wsgate

import (
	"bufio"
	"net"
	"net/http"

	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// upgrade runs the opening handshake with up and returns the connection
// and its permessage-deflate Params. Compression is negotiated by the
// Codec for this handshake alone: with Compression.ContextTakeover an
// answer that grants context takeover reserves one of MaxContexts slots,
// and a handshake that fails after negotiating gives it back here. From
// a successful return on, the slot belongs to the engine: Serve frees it
// when the connection ends, or at once when it cannot run it.
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request, up *ws.Upgrader) (net.Conn, *bufio.Reader, wsflate.Params, error) {
	if s.codec == nil {
		nc, br, _, err := up.Upgrade(w, r)
		return nc, br, wsflate.Params{}, err
	}
	n := negotiation{codec: s.codec}
	u := *up
	u.NegotiateExtensions = n.negotiate
	nc, br, _, err := u.Upgrade(w, r)
	if err != nil {
		s.codec.Release(n.params)
		return nil, nil, wsflate.Params{}, err
	}
	return nc, br, n.params, nil
}

// negotiation is one handshake's permessage-deflate negotiation: it keeps
// the Params the Codec settled, which the response string alone cannot
// carry (a context slot reserved for them).
type negotiation struct {
	codec  *wsflate.Codec
	params wsflate.Params
}

// negotiate has the shape of ws.Upgrader.NegotiateExtensions. A header
// that does not parse declines compression without failing the
// handshake.
func (n *negotiation) negotiate(offers []string) (string, error) {
	resp, p := n.codec.Negotiate(offers)
	n.params = p
	return resp, nil
}
