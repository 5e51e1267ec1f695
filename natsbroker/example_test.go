package natsbroker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/natsbroker"
)

// Two nodes of a cluster share one NATS server with JetStream; a
// publication made on one is numbered once and reaches the other's
// subscription, and either can tell a resuming client what it missed.
// (The NATS server is embedded here to keep the example whole; in
// production it runs on its own.)
func Example() {
	dir, _ := os.MkdirTemp("", "wsgate-example")
	defer os.RemoveAll(dir)
	ns, _ := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, JetStream: true, StoreDir: dir})
	ns.Start()
	defer ns.WaitForShutdown()
	defer ns.Shutdown()
	ns.ReadyForConnections(10 * time.Second)

	a, err := natsbroker.New(natsbroker.Options{URL: ns.ClientURL()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	b, err := natsbroker.New(natsbroker.Options{URL: ns.ClientURL()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	got := make(chan wsgate.Publication, 1)
	cancel, _ := b.Subscribe("news", func(p wsgate.Publication) { got <- p })
	defer cancel()

	ctx := context.Background()
	p, _ := a.Publish(ctx, "news", json.RawMessage(`"hello"`))
	fmt.Println("published seq", p.Seq)
	q := <-got
	fmt.Println("delivered on the other node:", q.Seq, string(q.Data))

	h, _ := b.History(ctx, "news", &wsgate.Position{Seq: 0, Epoch: p.Epoch})
	fmt.Println("a client that saw nothing of this epoch missed", len(h.Missed), "recovered:", h.Recovered)

	// A Server uses the broker as any other:
	srv, _ := wsgate.New(wsgate.Config{Broker: a})
	srv.Close()
	// Output:
	// published seq 1
	// delivered on the other node: 1 "hello"
	// a client that saw nothing of this epoch missed 1 recovered: true
}
