package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
)

// failoverNode is an in-process wsgate node on a shared broker.
type failoverNode struct {
	srv  *wsgate.Server
	ts   *httptest.Server
	once sync.Once
}

func (n *failoverNode) kill() {
	n.once.Do(func() {
		n.srv.Close()
		n.ts.Close()
	})
}

func startFailoverNode(t *testing.T, broker wsgate.Broker) *failoverNode {
	t.Helper()
	srv, err := wsgate.New(wsgate.Config{Broker: broker, APIKey: "k", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	n := &failoverNode{srv: srv, ts: httptest.NewServer(srv.Handler())}
	t.Cleanup(n.kill)
	return n
}

// runFailoverWith runs wsgate bench failover with args against two
// nodes (API key "k"); once it is ready, event is applied to the node it
// names.
func runFailoverWith(t *testing.T, event func(*failoverNode), extra ...string) (*Result, string, error) {
	t.Helper()
	broker := wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{HistorySize: 10_000})
	t.Cleanup(func() { broker.Close() })
	a, b := startFailoverNode(t, broker), startFailoverNode(t, broker)
	ready := filepath.Join(t.TempDir(), "ready")
	done := make(chan struct{})
	var res *Result
	var out, errOut bytes.Buffer
	var err error
	go func() {
		defer close(done)
		args := []string{"failover", "--url", a.ts.URL + "," + b.ts.URL + "/ws",
			"--conns", "20", "--rate", "100", "--warmup", "200ms", "--duration", "20s", "--ready-file", ready, "--json", "--quiet"}
		err = Main(context.Background(), append(args, extra...), &out, &errOut)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		raw, rerr := os.ReadFile(ready)
		if rerr == nil {
			node := strings.TrimSpace(string(raw))
			switch node {
			case a.ts.URL:
				event(a)
			case b.ts.URL:
				event(b)
			default:
				t.Fatalf("ready file names %q, neither %s nor %s", node, a.ts.URL, b.ts.URL)
			}
			<-done
			if out.Len() > 0 {
				res = new(Result)
				if jerr := json.Unmarshal(out.Bytes(), res); jerr != nil {
					t.Fatalf("output: %v\n%s", jerr, out.String())
				}
			}
			return res, node, err
		}
		select {
		case <-done:
			t.Fatalf("bench ended before it was ready: %v\n%s", err, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no ready file after 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func checkFailover(t *testing.T, res *Result, node string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("Main: %v", err)
	}
	fo := res.Failover
	if fo == nil {
		t.Fatal("no failover figures")
	}
	if fo.Before[node] == 0 || fo.Disconnected != fo.Before[node] || fo.Moved != fo.Disconnected || fo.NotResumed != 0 {
		t.Errorf("before %v after %v: %d disconnected, %d moved, %d not resumed; want all %d of %s moved", fo.Before, fo.After, fo.Disconnected, fo.Moved, fo.NotResumed, fo.Before[node], node)
	}
	if fo.After[node] != 0 || fo.ResumeMS == nil || fo.ResumeMS.Count != fo.Disconnected {
		t.Errorf("after %v, resume %+v", fo.After, fo.ResumeMS)
	}
	if fo.Published == 0 || fo.Lost != 0 || fo.Duplicated != 0 || fo.OutOfOrder != 0 || fo.Gaps != 0 {
		t.Errorf("published %d: lost %d, duplicated %d, out of order %d, gaps %d", fo.Published, fo.Lost, fo.Duplicated, fo.OutOfOrder, fo.Gaps)
	}
	var text bytes.Buffer
	res.writeText(&text)
	t.Logf("\n%s", text.String())
}

// TestFailoverKill kills the node the most clients are on: they all move
// to the other and miss no publication.
func TestFailoverKill(t *testing.T) {
	t.Parallel()
	res, node, err := runFailoverWith(t, (*failoverNode).kill)
	checkFailover(t, res, node, err)
}

// TestFailoverKillAPIPublisher publishes through /api/publish on the
// other node, which it never leaves.
func TestFailoverKillAPIPublisher(t *testing.T) {
	t.Parallel()
	res, node, err := runFailoverWith(t, (*failoverNode).kill, "--api-key", "k")
	checkFailover(t, res, node, err)
	if p := res.Failover.Publisher; !strings.HasPrefix(p, "POST /api/publish on http://") || strings.Contains(p, node) || res.Failover.PublishUnknown+res.Failover.PublishFailed != 0 {
		t.Errorf("publisher %q, %d unknown, %d refused; want it on the node not killed, %s", p, res.Failover.PublishUnknown, res.Failover.PublishFailed, node)
	}
}

// TestFailoverDrain drains that node instead.
func TestFailoverDrain(t *testing.T) {
	t.Parallel()
	res, node, err := runFailoverWith(t, func(n *failoverNode) {
		go n.srv.Drain(context.Background())
	})
	checkFailover(t, res, node, err)
}

// TestFailoverNoEvent: without an event the run lasts --duration and
// says that no client lost its connection.
func TestFailoverNoEvent(t *testing.T) {
	t.Parallel()
	base := startWsgate(t, "")
	res, err := runJSON(t, "failover", "--url", strings.Replace(base, "ws://", "http://", 1), "--conns", "5")
	if err != nil {
		t.Fatal(err)
	}
	fo := res.Failover
	if fo == nil || fo.Disconnected != 0 || fo.Published == 0 || fo.Lost != 0 || res.Msgs < 5*fo.Published {
		t.Fatalf("%+v, msgs %d", fo, res.Msgs)
	}
	var text bytes.Buffer
	res.writeText(&text)
	if !strings.Contains(text.String(), "no client lost its connection") {
		t.Errorf("text:\n%s", text.String())
	}
}
