package natsbroker

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// resumeAndRead resumes ch from since on url and reads until it has n
// publications past since; it returns them, or an error.
func resumeAndRead(url, ch string, since position, n int) ([]message, error) {
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	req := fmt.Sprintf(`{"id":1,"sub":%q,"since":{"seq":%d,"epoch":%q}}`, ch, since.Seq, since.Epoch)
	if err := c.WriteMessage(websocket.TextMessage, []byte(req)); err != nil {
		return nil, err
	}
	var pubs []message
	answered := false
	for len(pubs) < n {
		c.SetReadDeadline(time.Now().Add(hang))
		var m message
		if err := c.ReadJSON(&m); err != nil {
			return nil, err
		}
		if m.Ch == "" {
			var p position
			json.Unmarshal(m.Result, &p)
			if m.Error != nil || p.Recovered == nil || !*p.Recovered || answered {
				return nil, fmt.Errorf("resume from %+v answered %s %+v", since, m.Result, m.Error)
			}
			answered = true
			continue
		}
		if !answered {
			return nil, fmt.Errorf("publication %d before the answer", m.Seq)
		}
		pubs = append(pubs, m)
	}
	return pubs, nil
}

// TestMassResumeWhilePublishing: while a client publishes without a
// pause, many clients that left a channel at different places resume at
// once on another node; each gets, after its answer, the publications
// from where it left on, each once, in order, missed and live ones
// seamlessly.
func TestMassResumeWhilePublishing(t *testing.T) {
	t.Parallel()
	ns := startNATS(t, t.TempDir(), -1)
	// A history long enough for what the publisher makes while the
	// clients come and go, however slow the machine: every resume can
	// be recovered.
	opts := Options{HistorySize: 1 << 20}
	a := startNode(t, ns.ClientURL(), opts)
	b := startNode(t, ns.ClientURL(), opts)
	c := startNode(t, ns.ClientURL(), opts)
	const ch, clients, after = "busy", 20, 40

	load := startPublisher(t, b.ws, ch)
	// The channel must have an epoch when the clients come: one that
	// saw it empty cannot be told its resume is whole (History's doc).
	waitFor(t, "the first publication", func() bool { ok, _ := load.counts(); return ok > 0 })
	// Each client leaves at a different place: reads a few, closes.
	leftAt := make([]position, clients)
	for i := range leftAt {
		cl := dial(t, a.ws)
		p, _ := cl.sub(ch, nil)
		got := cl.publications(1 + i%3)
		leftAt[i] = position{Seq: got[len(got)-1].Seq, Epoch: p.Epoch}
		cl.c.Close()
	}
	readsBefore := c.b.Stats().Reads
	var wg sync.WaitGroup
	errs := make([]error, clients)
	results := make([][]message, clients)
	for i := range clients {
		wg.Go(func() { results[i], errs[i] = resumeAndRead(c.ws, ch, leftAt[i], after) })
	}
	wg.Wait()
	load.halt()
	for i := range clients {
		if errs[i] != nil {
			t.Fatalf("client %d: %v", i, errs[i])
		}
		checkRun(t, fmt.Sprintf("client %d", i), results[i], ch, leftAt[i].Seq+1)
	}
	st := c.b.Stats()
	t.Logf("%d resumes: %d history reads, %d coalesced", clients, st.Reads-readsBefore, st.Coalesced)
}
