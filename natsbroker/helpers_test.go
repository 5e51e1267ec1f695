package natsbroker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/wsgate/wsgate"
)

// hang bounds every wait of these tests: it is a guard against a hang,
// not a timing assertion, so it is generous for a loaded machine.
const hang = 20 * time.Second

// startNATS runs an embedded NATS server on loopback, with JetStream
// storing in dir when dir is not empty, on port (-1: any free port).
// It is shut down when the test ends; shut it down earlier to test a
// fault.
func startNATS(t testing.TB, dir string, port int) *server.Server {
	t.Helper()
	return runNATS(t, &server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true, JetStream: dir != "", StoreDir: dir})
}

// runNATS starts an embedded NATS server with opts, waits until it
// takes connections and stops it when the test ends.
func runNATS(t testing.TB, opts *server.Options) *server.Server {
	t.Helper()
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	if !ns.ReadyForConnections(hang) {
		t.Fatal("NATS server not ready")
	}
	return ns
}

// node is one wsgate server on a Broker of its own.
type node struct {
	b   *Broker
	srv *wsgate.Server
	ws  string // ws://…/ws
	url string // http://…
}

// quiet is a logger that discards.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startNode runs a wsgate Server on a new Broker connected to url; both
// are stopped when the test ends (or by n.stop).
func startNode(t testing.TB, url string, opts Options) *node {
	t.Helper()
	opts.URL = url
	if opts.ReconnectWait == 0 {
		opts.ReconnectWait = 50 * time.Millisecond
	}
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := wsgate.New(wsgate.Config{Broker: b, Logger: quiet})
	if err != nil {
		b.Close()
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	n := &node{b: b, srv: srv, ws: "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws", url: ts.URL}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), hang)
		defer cancel()
		srv.Shutdown(ctx)
		ts.Close()
		b.Close()
	})
	return n
}

// ready returns the status of the node's /readyz.
func (n *node) ready(t testing.TB) int {
	t.Helper()
	resp, err := http.Get(n.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// client is a WebSocket client of /ws.
type client struct {
	t  testing.TB
	c  *websocket.Conn
	id int
}

func dial(t testing.TB, url string) *client {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c}
}

// message is any message the server sends on /ws.
type message struct {
	ID     int             `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Ch   string          `json:"ch"`
	Seq  uint64          `json:"seq"`
	Data json.RawMessage `json:"data"`
}

// send sends a request with the next id and returns the id.
func (c *client) send(format string, args ...any) int {
	c.t.Helper()
	c.id++
	msg := fmt.Sprintf(`{"id":%d,`, c.id) + fmt.Sprintf(format, args...)[1:]
	if err := c.c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		c.t.Fatalf("write %s: %v", msg, err)
	}
	return c.id
}

// read returns the next message.
func (c *client) read() message {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(hang))
	_, b, err := c.c.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("%s: %v", b, err)
	}
	return m
}

// reply sends a request and returns its reply; publications that come
// first are returned too, in order.
func (c *client) reply(format string, args ...any) (message, []message) {
	c.t.Helper()
	id := c.send(format, args...)
	var pubs []message
	for {
		m := c.read()
		if m.Ch != "" {
			pubs = append(pubs, m)
			continue
		}
		if m.ID != id {
			c.t.Fatalf("reply to %d while waiting for %d: %+v", m.ID, id, m)
		}
		return m, pubs
	}
}

// position is a sub's result.
type position struct {
	Seq       uint64 `json:"seq"`
	Epoch     string `json:"epoch"`
	Recovered *bool  `json:"recovered"`
}

// sub subscribes to ch (resuming from since when not nil) and returns
// the position and the publications that came with the reply.
func (c *client) sub(ch string, since *position) (position, []message) {
	c.t.Helper()
	var m message
	var pubs []message
	if since != nil {
		m, pubs = c.reply(`{"sub":%q,"since":{"seq":%d,"epoch":%q}}`, ch, since.Seq, since.Epoch)
	} else {
		m, pubs = c.reply(`{"sub":%q}`, ch)
	}
	if m.Error != nil {
		c.t.Fatalf("sub %s: %s: %s", ch, m.Error.Code, m.Error.Message)
	}
	var p position
	if err := json.Unmarshal(m.Result, &p); err != nil {
		c.t.Fatalf("sub result %s: %v", m.Result, err)
	}
	return p, pubs
}

// pub publishes data on ch and returns its seq.
func (c *client) pub(ch, data string) uint64 {
	c.t.Helper()
	m, pubs := c.reply(`{"pub":%q,"data":%s}`, ch, data)
	if len(pubs) > 0 {
		c.t.Fatalf("publications on a publishing connection: %+v", pubs)
	}
	if m.Error != nil {
		c.t.Fatalf("pub %s: %s: %s", ch, m.Error.Code, m.Error.Message)
	}
	var r struct{ Seq uint64 }
	json.Unmarshal(m.Result, &r)
	return r.Seq
}

// publications reads n publications.
func (c *client) publications(n int) []message {
	c.t.Helper()
	out := make([]message, 0, n)
	for len(out) < n {
		m := c.read()
		if m.Ch == "" {
			c.t.Fatalf("not a publication: %+v", m)
		}
		out = append(out, m)
	}
	return out
}

// waitFor polls cond until it holds; the deadline only guards a hang.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hang)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
