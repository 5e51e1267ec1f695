package client

import (
	"testing"
)

// FuzzOnMessage feeds arbitrary server messages to a Client subscribed
// to "a" with a reply pending for id 1: nothing may panic, and the
// subscription's position never goes back.
func FuzzOnMessage(f *testing.F) {
	for _, s := range []string{
		`{"ch":"a","seq":3,"data":{"x":1}}`,
		`{"ch":"a","seq":2,"data":null}`,
		`{"ch":"b","seq":9,"data":1}`,
		`{"id":1,"result":{"seq":7}}`,
		`{"id":1,"error":{"code":"not_found","message":"no"}}`,
		`{"id":"1","result":1}`,
		`{"id":99,"result":{}}`,
		`{"ch":"a","seq":18446744073709551615}`,
		`[]`, `null`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		c := &Client{subs: make(map[string]*Subscription), disp: newDispatcher()}
		defer c.disp.stop(func() {})
		s := &Subscription{c: c, channel: "a", handler: func(Message) {}, known: true, pos: Position{Seq: 2, Epoch: "e"}}
		c.subs["a"] = s
		cn := &conn{pending: map[uint64]*pending{1: {ch: make(chan reply, 1)}}, drained: make(chan struct{}, 1)}
		c.onMessage(cn, payload)
		if s.pos.Seq < 2 || s.pos.Epoch != "e" {
			t.Fatalf("position went to %+v", s.pos)
		}
	})
}
