package hub_test

import (
	"context"
	"fmt"

	"github.com/wsgate/wsgate/internal/frame"
	"github.com/wsgate/wsgate/internal/hub"
)

// printer stands in for a connection: a real one enqueues f for its socket.
type printer string

func (p printer) Send(f *frame.Prepared) { fmt.Printf("%s <- %s\n", p, f.Payload()) }

// A client reconnects after missing publications 2 and 3. Its subscription
// starts with the backlog, then continues live; publication 3, which arrives
// both ways, is delivered once.
func ExampleHub_Subscribe() {
	ctx := context.Background()
	h := hub.New(hub.Options{})
	h.Subscribe(ctx, "ticks", printer("alice"), nil)
	h.Publish("ticks", hub.Publication{Seq: 1, Epoch: "e", Data: []byte(`"one"`)})

	history := []hub.Publication{
		{Seq: 2, Epoch: "e", Data: []byte(`"two"`)},
		{Seq: 3, Epoch: "e", Data: []byte(`"three"`)},
	}
	added, err := h.Subscribe(ctx, "ticks", printer("bob"), func(context.Context) (hub.Backlog, error) {
		// A broker's history would be read here; the answer to the
		// subscribe request goes out in Start, ahead of the backlog.
		return hub.Backlog{
			Start:  func() { fmt.Println("bob subscribed") },
			Missed: history,
		}, nil
	})
	fmt.Println("added:", added, "err:", err)

	h.Publish("ticks", hub.Publication{Seq: 3, Epoch: "e", Data: []byte(`"three"`)})
	// Output:
	// alice <- {"ch":"ticks","seq":1,"data":"one","epoch":"e"}
	// bob subscribed
	// bob <- {"ch":"ticks","seq":2,"data":"two","epoch":"e"}
	// bob <- {"ch":"ticks","seq":3,"data":"three","epoch":"e"}
	// added: true err: <nil>
	// alice <- {"ch":"ticks","seq":3,"data":"three","epoch":"e"}
}
