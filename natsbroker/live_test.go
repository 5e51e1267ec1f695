package natsbroker

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
)

// syncBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestWithoutJetStream: on core NATS publications still go from node to
// node, live only: seq 0, and a resume is answered recovered:false. The
// log says so once.
func TestWithoutJetStream(t *testing.T) {
	t.Parallel()
	ns := startNATS(t, "", -1)
	var logs syncBuffer
	a := startNode(t, ns.ClientURL(), Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	b := startNode(t, ns.ClientURL(), Options{})
	if st := a.b.Stats(); st.JetStream {
		t.Fatalf("JetStream reported on a server without it: %+v", st)
	}
	if n := strings.Count(logs.String(), "no JetStream"); n != 1 {
		t.Errorf("the log says %d times that JetStream is missing, want once:\n%s", n, logs.String())
	}
	sub := dial(t, b.ws)
	if p, _ := sub.sub("plain", nil); p.Seq != 0 {
		t.Fatalf("sub at %+v", p)
	}
	pub := dial(t, a.ws)
	for _, d := range []string{"1", "2", "3"} {
		if seq := pub.pub("plain", d); seq != 0 {
			t.Fatalf("live-only pub numbered %d", seq)
		}
	}
	for i, m := range sub.publications(3) {
		if m.Seq != 0 || string(m.Data) != []string{"1", "2", "3"}[i] {
			t.Fatalf("publication %d: %+v", i, m)
		}
	}
	p, _ := dial(t, b.ws).sub("plain", &position{Seq: 2, Epoch: "e"})
	if p.Recovered == nil || *p.Recovered {
		t.Fatalf("resume without JetStream answered %+v, want recovered:false", p)
	}
}

// TestCacheInvalidationAcrossNodes: an invalidation made on A empties
// B's cache, through the broker's live-only channel.
func TestCacheInvalidationAcrossNodes(t *testing.T) {
	t.Parallel()
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), Options{})
	b := startNode(t, ns.ClientURL(), Options{})
	var calls atomic.Int64
	count := func(context.Context, json.RawMessage) (any, error) { return calls.Add(1), nil }
	a.srv.Handle("count", count, wsgate.CacheFor(time.Hour))
	b.srv.Handle("count", count, wsgate.CacheFor(time.Hour))
	c := dial(t, b.ws)
	call := func() string {
		m, _ := c.reply(`{"call":"count"}`)
		if m.Error != nil {
			t.Fatalf("call: %+v", m.Error)
		}
		return string(m.Result)
	}
	first := call()
	if again := call(); again != first {
		t.Fatalf("second call %s, want the cached %s", again, first)
	}
	if _, err := a.srv.InvalidateCache("count", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B's cache to drop the result", func() bool { return call() != first })
	if st := a.b.Stats(); st.Published == 0 {
		t.Errorf("the invalidation was not published: %+v", st)
	}
}
