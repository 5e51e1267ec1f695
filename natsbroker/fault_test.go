package natsbroker

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// publisher publishes on a channel as fast as its replies come back and
// counts how they were answered.
type publisher struct {
	mu          sync.Mutex
	ok          []uint64 // seqs of the acknowledged publications
	unavailable int      // pubs answered unavailable
	other       []string // any other answer, or the connection's failure
	stop, done  chan struct{}
}

func startPublisher(t *testing.T, url, ch string) *publisher {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &publisher{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		defer c.Close()
		for i := 1; ; i++ {
			select {
			case <-p.stop:
				return
			default:
			}
			c.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `{"id":%d,"pub":%q,"data":%d}`, i, ch, i))
			c.SetReadDeadline(time.Now().Add(hang))
			var m message
			if err := c.ReadJSON(&m); err != nil {
				p.mu.Lock()
				p.other = append(p.other, err.Error())
				p.mu.Unlock()
				return
			}
			p.mu.Lock()
			switch {
			case m.Error == nil:
				var r struct{ Seq uint64 }
				json.Unmarshal(m.Result, &r)
				p.ok = append(p.ok, r.Seq)
			case m.Error.Code == "unavailable":
				p.unavailable++
			default:
				p.other = append(p.other, m.Error.Code+": "+m.Error.Message)
			}
			p.mu.Unlock()
			if m.Error != nil {
				time.Sleep(5 * time.Millisecond) // no busy loop while NATS is away
			}
		}
	}()
	t.Cleanup(p.halt)
	return p
}

func (p *publisher) halt() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}

func (p *publisher) counts() (ok, unavailable int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ok), p.unavailable
}

// TestNATSRestartUnderLoad: NATS stops and starts again while a client
// publishes. Nothing crashes; pubs during the outage are answered
// unavailable; /readyz follows the connection; subscriptions come back
// and a subscriber on another node gets every stored publication once,
// in order.
func TestNATSRestartUnderLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ns := startNATS(t, dir, -1)
	port := ns.Addr().(*net.TCPAddr).Port
	// A history long enough for everything the publisher makes while B
	// catches up after the outage, however fast it publishes: with the
	// default 128 a fast machine can publish past what B has yet to read,
	// and B then rightly skips what the stream no longer holds.
	opts := Options{HistorySize: 1 << 20}
	a := startNode(t, ns.ClientURL(), opts)
	b := startNode(t, ns.ClientURL(), opts)
	const ch = "under.load"
	sub := dial(t, b.ws)
	sub.sub(ch, nil)

	load := startPublisher(t, a.ws, ch)
	waitFor(t, "publications before the outage", func() bool { ok, _ := load.counts(); return ok >= 20 })
	ns.Shutdown()
	ns.WaitForShutdown()
	waitFor(t, "/readyz to fail", func() bool {
		return a.ready(t) == http.StatusServiceUnavailable && b.ready(t) == http.StatusServiceUnavailable
	})
	waitFor(t, "a pub answered unavailable", func() bool { _, un := load.counts(); return un > 0 })
	if err := a.b.Ready(); err == nil {
		t.Error("Ready is nil while NATS is down")
	}
	if m, _ := dial(t, a.ws).reply(`{"sub":"new.while.down"}`); m.Error == nil || m.Error.Code != "unavailable" {
		t.Errorf("sub while NATS is down answered %+v %s, want unavailable", m.Error, m.Result)
	}

	startNATS(t, dir, port)
	waitFor(t, "/readyz to pass", func() bool { return a.ready(t) == http.StatusOK && b.ready(t) == http.StatusOK })
	okBefore, _ := load.counts()
	waitFor(t, "publications after the outage", func() bool { ok, _ := load.counts(); return ok >= okBefore+20 })
	load.halt()
	if len(load.other) > 0 {
		t.Fatalf("pubs answered otherwise than ok or unavailable: %q", load.other)
	}

	// Every acknowledged publication reaches the subscriber on B, once,
	// in order, with nothing between them but stored ones (a pub whose
	// answer was lost in the outage may be stored too).
	last := load.ok[len(load.ok)-1]
	end := dial(t, a.ws).pub(ch, `"end"`)
	if end <= last {
		t.Fatalf("end marker at seq %d after seq %d", end, last)
	}
	got := sub.publications(int(end))
	checkRun(t, "B", got, ch, 1)
	if string(got[len(got)-1].Data) != `"end"` {
		t.Fatalf("last publication %s, want the end marker", got[len(got)-1].Data)
	}
	if st := b.b.Stats(); st.Reconnects == 0 || !st.Connected || !st.JetStream {
		t.Errorf("B's stats after the outage: %+v", st)
	}
}
