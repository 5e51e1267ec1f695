package wsgate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/gorilla/websocket"
	"github.com/wsgate/wsgate"
)

// Permissions say what each connection may do: here every user may read
// the news and their own inbox, and publish nowhere.
func ExamplePermissions() {
	srv, err := wsgate.New(wsgate.Config{
		Authenticate: func(ctx context.Context, token string) (wsgate.Identity, error) {
			return wsgate.Identity{User: token}, nil // the token is the user: an example only
		},
		Permissions: &wsgate.Permissions{
			Subscribe: []string{"news.*", "inbox.{user}"},
		},
	})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"

	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	for _, req := range []string{
		`{"auth":"ada"}`,
		`{"id":1,"sub":"news.world"}`,
		`{"id":2,"sub":"inbox.ada"}`,
		`{"id":3,"sub":"inbox.bob"}`,
		`{"id":4,"pub":"news.world","data":"fake"}`,
	} {
		c.WriteMessage(websocket.TextMessage, []byte(req))
		_, reply, _ := c.ReadMessage()
		var r struct {
			Error *struct{ Message string }
		}
		json.Unmarshal(reply, &r)
		if r.Error != nil {
			fmt.Printf("%s: %s\n", req, r.Error.Message)
		} else {
			fmt.Printf("%s: ok\n", req)
		}
	}
	// Output:
	// {"auth":"ada"}: ok
	// {"id":1,"sub":"news.world"}: ok
	// {"id":2,"sub":"inbox.ada"}: ok
	// {"id":3,"sub":"inbox.bob"}: not allowed to subscribe to "inbox.bob"
	// {"id":4,"pub":"news.world","data":"fake"}: not allowed to publish on "news.world"
}
