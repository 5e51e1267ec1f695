package natsbroker

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/internal/measuretest"
)

// TestMeasureReconnectStorm: WSGATE_MEASURE_N clients (default 9,000:
// this process holds both ends of every connection, under the machine's
// 20,000 open files) that left a channel 100 publications ago all resume
// at once on a node that has just started, with empty memory. It reports
// the time until each has its answer and every missed publication, and
// how many reads of JetStream that took (identical reads are coalesced).
//
//	WSGATE_MEASURE=1 go test -run TestMeasureReconnectStorm -v ./natsbroker
func TestMeasureReconnectStorm(t *testing.T) {
	measuretest.Require(t)
	n := measuretest.N(9000)
	const missed = 100
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), Options{})
	ctx := context.Background()
	var left wsgate.Publication
	for i := range 2 * missed {
		p, err := a.b.Publish(ctx, "storm", json.RawMessage(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		if i == missed-1 {
			left = p
		}
	}
	fresh := startNode(t, ns.ClientURL(), Options{})

	// Connect every client first, spread over source addresses so that
	// ports do not run out; then all ask at once.
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		d := websocket.Dialer{NetDial: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%8))}}).Dial}
		c, _, err := d.Dial(fresh.ws, nil)
		if err != nil {
			t.Fatalf("client %d: %v (this process holds both ends: lower WSGATE_MEASURE_N)", i, err)
		}
		defer c.Close()
		conns[i] = c
	}
	req := fmt.Appendf(nil, `{"id":1,"sub":"storm","since":{"seq":%d,"epoch":%q}}`, left.Seq, left.Epoch)
	reads0 := fresh.b.Stats()
	took := make([]time.Duration, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	var began time.Time
	for i, c := range conns {
		wg.Go(func() {
			<-start
			if errs[i] = c.WriteMessage(websocket.TextMessage, req); errs[i] != nil {
				return
			}
			errs[i] = readResume(c, left.Seq, missed)
			took[i] = time.Since(began)
		})
	}
	began = time.Now()
	close(start)
	wg.Wait()
	all := time.Since(began)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	reads1 := fresh.b.Stats()
	slices.Sort(took)
	t.Logf("%d clients resumed at once on a fresh node, %d missed publications each, all recovered in %v; per client p50 %v p99 %v; JetStream history reads %d, coalesced %d",
		n, missed, all.Round(time.Millisecond), took[n/2].Round(time.Millisecond), took[n*99/100].Round(time.Millisecond),
		reads1.Reads-reads0.Reads, reads1.Coalesced-reads0.Coalesced)
}

// readResume reads the answer to a resume from after seq, which must say
// recovered, then the n publications after seq, in order.
func readResume(c *websocket.Conn, seq uint64, n int) error {
	c.SetReadDeadline(time.Now().Add(time.Minute))
	var m message
	if err := c.ReadJSON(&m); err != nil {
		return err
	}
	var p position
	if json.Unmarshal(m.Result, &p) != nil || p.Recovered == nil || !*p.Recovered {
		return fmt.Errorf("resume answered %s %+v", m.Result, m.Error)
	}
	for i := range n {
		var m message
		if err := c.ReadJSON(&m); err != nil {
			return err
		}
		if m.Seq != seq+uint64(i)+1 {
			return fmt.Errorf("publication %d: seq %d, want %d", i, m.Seq, seq+uint64(i)+1)
		}
	}
	return nil
}
