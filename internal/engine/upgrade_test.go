package engine_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/ws"
)

// upgradeRequest is a valid opening handshake offering permessage-deflate
// with server context takeover.
func upgradeRequest() *http.Request {
	r := httptest.NewRequest("GET", "/ws", nil)
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	r.Header.Set("Sec-WebSocket-Extensions", takeoverOffer)
	return r
}

// TestUpgradeSettlesSlots checks that Upgrade gives back the context slot
// its negotiation reserved when the handshake fails after negotiating
// (the ResponseWriter cannot be hijacked) and when Serve refuses the
// connection, and never calls the Handler then.
func TestUpgradeSettlesSlots(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		codec := newTakeoverCodec(t, 1)
		e := engine.New(engine.Options{Kind: kind, Codec: codec})
		called := func() engine.Handler {
			return funcs{open: func(*engine.Conn) { t.Error("OnOpen on a connection that was not served") }}
		}
		for range 3 {
			rec := httptest.NewRecorder()
			var he *ws.HandshakeError
			if err := e.Upgrade(rec, upgradeRequest(), &ws.Upgrader{}, called()); !errors.As(err, &he) || he.Status != http.StatusInternalServerError {
				t.Fatalf("Upgrade on a recorder: %v, want a 500 HandshakeError", err)
			}
			if n := codec.Stats().Contexts; n != 0 {
				t.Fatalf("after a failed handshake: %d slots held, want 0", n)
			}
		}
		// A served connection holds the slot until it ends.
		url := serve(t, e, echo)
		p := dialTakeover(t, url)
		if !p.takesOver() || codec.Stats().Contexts != 1 {
			t.Fatalf("response %q with %d slots held; want context takeover and 1", p.exts, codec.Stats().Contexts)
		}
		p.close()
		waitFor(t, func() bool { return codec.Stats().Contexts == 0 && e.Len() == 0 })

		// After Close, Serve refuses: the slot comes back at once.
		e.Close()
		errc := make(chan error, 1)
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			errc <- e.Upgrade(w, r, &ws.Upgrader{}, called())
		}))
		defer ts.Close()
		if q := dialTakeover(t, "ws"+strings.TrimPrefix(ts.URL, "http")); !q.takesOver() {
			t.Fatalf("response %q, want context takeover", q.exts)
		}
		if err := <-errc; err != engine.ErrEngineClosed {
			t.Fatalf("Upgrade after Close: %v, want ErrEngineClosed", err)
		}
		if n := codec.Stats().Contexts; n != 0 {
			t.Fatalf("after Serve refused the connection: %d slots held, want 0", n)
		}
	})
}
