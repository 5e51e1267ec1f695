package hub_test

import (
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
	h := hub.New(nil)
	h.Subscribe("ticks", printer("alice"), nil)
	h.Publish("ticks", hub.Publication{Seq: 1, Epoch: "e", Data: []byte(`"one"`)})

	history := []hub.Publication{
		{Seq: 2, Epoch: "e", Data: []byte(`"two"`)},
		{Seq: 3, Epoch: "e", Data: []byte(`"three"`)},
	}
	first, added := h.Subscribe("ticks", printer("bob"), func() []hub.Publication { return history })
	fmt.Println("first:", first, "added:", added)

	h.Publish("ticks", hub.Publication{Seq: 3, Epoch: "e", Data: []byte(`"three"`)})
	// Output:
	// alice <- {"ch":"ticks","seq":1,"data":"one"}
	// bob <- {"ch":"ticks","seq":2,"data":"two"}
	// bob <- {"ch":"ticks","seq":3,"data":"three"}
	// first: false added: true
	// alice <- {"ch":"ticks","seq":3,"data":"three"}
}
