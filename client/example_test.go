package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"time"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/client"
)

// exampleNode starts a wsgate node with a "greet" method for the
// examples; stop stops it.
func exampleNode() (url string, stop func()) {
	srv, err := wsgate.New(wsgate.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		panic(err)
	}
	srv.Handle("greet", func(ctx context.Context, args json.RawMessage) (any, error) {
		var p struct{ Name string }
		json.Unmarshal(args, &p)
		return map[string]string{"greeting": "hello, " + p.Name}, nil
	})
	ts := httptest.NewServer(srv.Handler())
	return ts.URL, func() { srv.Close(); ts.Close() }
}

// Dial a cluster through its seeds, then call, subscribe and publish.
func Example() {
	url, stop := exampleNode()
	defer stop()
	ctx := context.Background()

	c, err := client.Dial(ctx, []string{url}, client.Options{})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	result, err := c.Call(ctx, "greet", map[string]string{"name": "Ada"})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(result))

	got := make(chan client.Message, 1)
	if _, err := c.Subscribe(ctx, "chat", func(m client.Message) { got <- m }); err != nil {
		panic(err)
	}
	seq, err := c.Publish(ctx, "chat", map[string]string{"text": "hi"})
	if err != nil {
		panic(err)
	}
	m := <-got
	fmt.Println(seq, m.Kind, m.Pos.Seq, string(m.Data))
	// Output:
	// {"greeting":"hello, Ada"}
	// 1 publication 1 {"text":"hi"}
}

// A handler sees each publication once, in order, across reconnections;
// where the server could not replay what was missed it gets a gap first.
func ExampleClient_Subscribe() {
	url, stop := exampleNode()
	defer stop()
	ctx := context.Background()
	c, err := client.Dial(ctx, []string{url}, client.Options{})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	done := make(chan struct{})
	handler := func(m client.Message) {
		switch m.Kind {
		case client.KindPublication:
			fmt.Printf("#%d %s\n", m.Pos.Seq, m.Data)
			if m.Pos.Seq == 2 {
				close(done)
			}
		case client.KindGap:
			fmt.Printf("lost what came after #%d; now at #%d\n", m.Last.Seq, m.Pos.Seq)
		case client.KindEnded:
			fmt.Println("subscription ended:", m.Err)
		}
	}
	sub, err := c.Subscribe(ctx, "prices", handler)
	if err != nil {
		panic(err)
	}
	defer sub.Unsubscribe(ctx)
	c.Publish(ctx, "prices", 101.5)
	c.Publish(ctx, "prices", 101.7)
	<-done
	// Output:
	// #1 101.5
	// #2 101.7
}

// Options.OnState reports the connection's state, in order with the
// handlers' messages.
func ExampleOptions() {
	url, stop := exampleNode()
	defer stop()
	states := make(chan client.State, 4)
	c, err := client.Dial(context.Background(), []string{url}, client.Options{
		OnState: func(e client.StateEvent) { states <- e.State },
	})
	if err != nil {
		panic(err)
	}
	c.Close()
	fmt.Println(<-states, <-states)
	// Output: connected closed
}

// Present a token to a node with authentication on. Token is called
// before every connection and when the node asks for a fresh token ahead
// of the expiry; here it returns a fixed string that this node's
// Authenticate takes for Ada (a real one would fetch a JWT).
func ExampleOptions_token() {
	srv, err := wsgate.New(wsgate.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Authenticate: func(ctx context.Context, token string) (wsgate.Identity, error) {
			if token != "ada-s-token" {
				return wsgate.Identity{}, errors.New("unknown token")
			}
			return wsgate.Identity{User: "ada", Expires: time.Now().Add(time.Hour)}, nil
		},
	})
	if err != nil {
		panic(err)
	}
	srv.Handle("whoami", func(ctx context.Context, _ json.RawMessage) (any, error) {
		id, _ := wsgate.IdentityFromContext(ctx)
		return id.User, nil
	})
	ts := httptest.NewServer(srv.Handler())
	defer func() { srv.Close(); ts.Close() }()
	ctx := context.Background()

	c, err := client.Dial(ctx, []string{ts.URL}, client.Options{
		Token: func(ctx context.Context) (string, error) { return "ada-s-token", nil },
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	who, err := c.Call(ctx, "whoami", nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(who))
	// Output: "ada"
}
