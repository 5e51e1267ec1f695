package wsgate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsgate/wsgate"
)

// A Server is an http.Handler: mount it, register calls, publish.
func Example() {
	srv, err := wsgate.New(wsgate.Config{})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	srv.Handle("greet", func(ctx context.Context, args json.RawMessage) (any, error) {
		var p struct{ Name string }
		if err := json.Unmarshal(args, &p); err != nil || p.Name == "" {
			return nil, wsgate.Errorf(wsgate.CodeBadRequest, `args must be {"name":"…"}`)
		}
		return map[string]string{"greeting": "hello, " + p.Name}, nil
	})

	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler()) // /ws, /echo, /healthz, /readyz
	ts := httptest.NewServer(mux)
	defer ts.Close()

	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws", nil)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"call":"greet","args":{"name":"Ada"}}`))
	_, reply, _ := c.ReadMessage()
	fmt.Println(string(reply))
	c.WriteMessage(websocket.TextMessage, []byte(`{"id":2,"call":"greet","args":{}}`))
	_, reply, _ = c.ReadMessage()
	fmt.Println(string(reply))
	// Output:
	// {"id":1,"result":{"greeting":"hello, Ada"}}
	// {"id":2,"error":{"code":"bad_request","message":"args must be {\"name\":\"…\"}"}}
}

// Publish reaches every subscriber of a channel; each publication carries
// the channel's next seq.
func ExampleServer_Publish() {
	srv, _ := wsgate.New(wsgate.Config{})
	defer srv.Close()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws", nil)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"sub":"scores"}`))
	c.ReadMessage() // {"id":1,"result":{"seq":0,"epoch":"…"}}

	srv.Publish(context.Background(), "scores", map[string]int{"home": 1, "away": 0})
	_, msg, _ := c.ReadMessage() // {"ch":"scores","seq":1,"data":{…},"epoch":"…"}
	var push struct {
		Ch    string          `json:"ch"`
		Seq   uint64          `json:"seq"`
		Data  json.RawMessage `json:"data"`
		Epoch string          `json:"epoch"`
	}
	json.Unmarshal(msg, &push)
	fmt.Println(push.Ch, push.Seq, string(push.Data), push.Epoch != "")
	// Output: scores 1 {"away":0,"home":1} true
}

// Shutdown lets running calls finish, then closes every connection with
// 1001 (going away). Stop the http.Server first so that no new
// connection arrives.
func ExampleServer_Shutdown() {
	srv, _ := wsgate.New(wsgate.Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	httpSrv := &http.Server{Handler: srv.Handler()}
	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()

	// ... serve until a signal arrives, then:
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	httpSrv.Shutdown(ctx)
	fmt.Println(srv.Shutdown(ctx), <-served)
	// Output: <nil> http: Server closed
}
