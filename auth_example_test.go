package wsgate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gorilla/websocket"
	"github.com/wsgate/wsgate"
)

// Authenticate makes /ws take a token first; handlers learn who called
// with IdentityFromContext. This one knows a single fixed token; a real
// one checks a JWT's signature and claims, or asks a service.
func ExampleConfig_authenticate() {
	srv, err := wsgate.New(wsgate.Config{
		Authenticate: func(ctx context.Context, token string) (wsgate.Identity, error) {
			if token != "open-sesame" {
				return wsgate.Identity{}, errors.New("unknown token")
			}
			return wsgate.Identity{User: "ada"}, nil
		},
	})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	srv.Handle("whoami", func(ctx context.Context, _ json.RawMessage) (any, error) {
		id, _ := wsgate.IdentityFromContext(ctx)
		return id.User, nil
	})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"

	// The token as the first message (or in the handshake: offer the
	// subprotocols "wsgate.v1" and "wsgate.auth.open-sesame").
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	c.WriteMessage(websocket.TextMessage, []byte(`{"auth":"open-sesame"}`))
	_, reply, _ := c.ReadMessage()
	fmt.Println(string(reply))
	c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"call":"whoami"}`))
	_, reply, _ = c.ReadMessage()
	fmt.Println(string(reply))

	// Anything else first closes the connection.
	c2, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		panic(err)
	}
	defer c2.Close()
	c2.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"call":"whoami"}`))
	_, _, err = c2.ReadMessage()
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		fmt.Println(ce.Code == int(wsgate.CloseAuthRequired), ce.Text)
	}
	// Output:
	// {"auth":{"user":"ada"}}
	// {"id":1,"result":"ada"}
	// true authentication required: send {"auth":"TOKEN"} first
}

// AuthenticateHandshake checks what the whole handshake carries, here a
// session cookie, before the upgrade; a handshake without one is left to
// a token (ErrNoCredentials), which Authenticate checks.
func ExampleConfig_authenticateHandshake() {
	srv, err := wsgate.New(wsgate.Config{
		AuthenticateHandshake: func(ctx context.Context, r *http.Request) (wsgate.Identity, error) {
			c, err := r.Cookie("session")
			switch {
			case err != nil:
				return wsgate.Identity{}, wsgate.ErrNoCredentials
			case c.Value == "s3cr3t":
				return wsgate.Identity{User: "ada"}, nil
			}
			return wsgate.Identity{}, errors.New("unknown session")
		},
		Authenticate: func(ctx context.Context, token string) (wsgate.Identity, error) {
			return wsgate.Identity{}, errors.New("no tokens here")
		},
	})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"

	c, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Cookie": {"session=s3cr3t"}})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	_, reply, _ := c.ReadMessage()
	fmt.Println(string(reply))

	_, resp, _ := websocket.DefaultDialer.Dial(url, http.Header{"Cookie": {"session=stale"}})
	fmt.Println(resp.StatusCode)
	// Output:
	// {"auth":{"user":"ada"}}
	// 401
}
