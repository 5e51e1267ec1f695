package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/internal/measuretest"
	"github.com/wsgate/wsgate/natsbroker"
)

// dropArgs are the drop mode flags of the tests: drops of 200 ms every
// 500 ms for 3 s at 100 publications a second, and a short backoff (the
// client's default keeps growing when connections never live 30 s).
func dropArgs(bases ...string) []string {
	var urls []string
	for _, u := range bases {
		urls = append(urls, "ws"+strings.TrimPrefix(u, "http")+"/ws")
	}
	return []string{"fanout", "--url", strings.Join(urls, ","), "--conns", strconv.Itoa(measuretest.N(50)),
		"--rate", "100", "--drop-every", "500ms", "--drop-for", "200ms", "--backoff-max", "300ms",
		"--duration", "3s", "--warmup", "200ms", "--json", "--quiet"}
}

// runDropJSON runs Main with args and decodes its --json output.
func runDropJSON(t *testing.T, args []string) (*DropResult, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Main(context.Background(), args, &out, &errOut)
	if out.Len() == 0 {
		t.Fatalf("no output: %v\n%s", err, errOut.String())
	}
	var res Result
	if jerr := json.Unmarshal(out.Bytes(), &res); jerr != nil {
		t.Fatalf("output: %v\n%s", jerr, out.String())
	}
	if res.Drop == nil {
		t.Fatalf("no drop figures: %s", out.String())
	}
	var text bytes.Buffer
	res.writeText(&text)
	t.Logf("\n%s", text.String())
	return res.Drop, err
}

// checkLossless fails t unless every subscriber received every
// acknowledged publication once, in order, through drops that did cut
// connections.
func checkLossless(t *testing.T, d *DropResult, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("Main: %v", err)
	}
	if d.Drops == 0 || d.ConnsReset == 0 || d.Published == 0 || d.ReconnectMS == nil || d.ReplayMS == nil || d.CatchUpMS == nil {
		t.Fatalf("%d drops, %d connections reset, %d published, reconnect %+v, replay %+v, catch-up %+v: the drops did not happen", d.Drops, d.ConnsReset, d.Published, d.ReconnectMS, d.ReplayMS, d.CatchUpMS)
	}
	if d.DeliveredPct != 100 || d.Lost != 0 || d.Duplicated != 0 || d.OutOfOrder != 0 || d.Gaps != 0 {
		t.Errorf("delivered %.3f %%: lost %d, duplicated %d, out of order %d, gaps %d; want every publication once, in order", d.DeliveredPct, d.Lost, d.Duplicated, d.OutOfOrder, d.Gaps)
	}
}

// TestDropOneNode: subscribers cut again and again resume on one node
// with every publication once, in order.
func TestDropOneNode(t *testing.T) {
	t.Parallel()
	broker := wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{HistorySize: 1000})
	t.Cleanup(func() { broker.Close() })
	n := startFailoverNode(t, broker)
	d, err := runDropJSON(t, dropArgs(n.ts.URL))
	checkLossless(t, d, err)
}

// TestDropAPIPublisher: the publications go through POST /api/publish.
func TestDropAPIPublisher(t *testing.T) {
	t.Parallel()
	broker := wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{HistorySize: 1000})
	t.Cleanup(func() { broker.Close() })
	n := startFailoverNode(t, broker)
	d, err := runDropJSON(t, append(dropArgs(n.ts.URL), "--conns", "10", "--api-key", "k"))
	checkLossless(t, d, err)
	if !strings.HasPrefix(d.Publisher, "POST /api/publish on http://") {
		t.Errorf("publisher %q", d.Publisher)
	}
}

// TestDropThreeNodesOnNATS: three nodes on one NATS, subscribers spread
// over them and cut again and again; a node is killed midway, and its
// clients resume elsewhere, every publication once, in order.
func TestDropThreeNodesOnNATS(t *testing.T) {
	t.Parallel()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, JetStream: true, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready")
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	var nodes []*failoverNode
	var urls []string
	for range 3 {
		b, err := natsbroker.New(natsbroker.Options{URL: ns.ClientURL(), HistorySize: 10_000})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() }) // after the node's own cleanup
		n := startFailoverNode(t, b)
		nodes = append(nodes, n)
		urls = append(urls, n.ts.URL)
	}
	go func() {
		time.Sleep(2 * time.Second) // about midway through the drops
		nodes[0].kill()
	}()
	d, err := runDropJSON(t, dropArgs(urls...))
	checkLossless(t, d, err)
	if d.Before[urls[0]] == 0 || d.After[urls[0]] != 0 || d.After[urls[1]]+d.After[urls[2]] != measuretest.N(50) {
		t.Errorf("subscribers per node before %v, after %v; want some on %s, killed midway, and all on the others at the end", d.Before, d.After, urls[0])
	}
}

// TestDropBeyondHistory: a channel that keeps 4 publications cannot
// replay a drop's worth; the subscribers are told (recovered:false, a
// KindGap) and the run does not fail: nothing was lost silently.
func TestDropBeyondHistory(t *testing.T) {
	t.Parallel()
	broker := wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{HistorySize: 4})
	t.Cleanup(func() { broker.Close() })
	srv, err := wsgate.New(wsgate.Config{Broker: broker, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { srv.Close(); ts.Close() })
	args := dropArgs(ts.URL)
	args = append(args, "--conns", "10", "--drop-every", "600ms", "--drop-for", "300ms")
	d, err := runDropJSON(t, args)
	if err != nil {
		t.Fatalf("Main: %v (a loss after an explicit gap is no failure)", err)
	}
	if d.Gaps == 0 || d.RecoveredFalse == 0 || d.Lost == 0 || d.Lost != d.LostAfterGap || d.Duplicated != 0 || d.OutOfOrder != 0 {
		t.Errorf("gaps %d (recovered:false %d), lost %d of which %d after a gap, duplicated %d, out of order %d; want losses, every one after a gap",
			d.Gaps, d.RecoveredFalse, d.Lost, d.LostAfterGap, d.Duplicated, d.OutOfOrder)
	}
}

// TestDropVerdict: a loss no gap explains, a duplicate or a publication
// out of order fails the run.
func TestDropVerdict(t *testing.T) {
	t.Parallel()
	for _, d := range []DropResult{{}, {Published: 1, Lost: 1}, {Published: 1, Lost: 3, LostAfterGap: 2}, {Published: 1, Duplicated: 1}, {Published: 1, OutOfOrder: 1}} {
		if d.verdict() == nil {
			t.Errorf("%+v passed", d)
		}
	}
	if d := (DropResult{Published: 1, Lost: 3, LostAfterGap: 3, Gaps: 1}); d.verdict() != nil {
		t.Errorf("%+v failed: every loss came after a gap", d)
	}
}

// TestDropLink: a cut resets the link's connections (the peer reads an
// RST, not an end of stream) and refuses dials until restore; a
// connection closed by its user is forgotten.
func TestDropLink(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	l := newDropLink(&net.Dialer{})
	ctx := context.Background()
	closed, err := l.dial(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	(<-accepted).Close()
	closed.Close()
	if _, err := l.dial(ctx, "tcp", ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	peer := <-accepted
	defer peer.Close()
	if n := l.cut(); n != 1 {
		t.Fatalf("cut reset %d connections, want the one left open", n)
	}
	peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := peer.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the peer read %v, want a connection reset", err)
	}
	if _, err := l.dial(ctx, "tcp", ln.Addr().String()); !errors.Is(err, errDropped) {
		t.Fatalf("dial while down = %v, want errDropped", err)
	}
	l.restore()
	c, err := l.dial(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial after restore: %v", err)
	}
	c.Close()
	(<-accepted).Close()
}

func TestSeeds(t *testing.T) {
	t.Parallel()
	got := seeds([]string{"ws://127.0.0.1:1/ws", "wss://example.com/ws/", "ws://127.0.0.1:2"})
	want := []string{"http://127.0.0.1:1", "https://example.com", "http://127.0.0.1:2"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("seeds %q, want %q", got, want)
	}
}
