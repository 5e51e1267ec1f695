package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/natsbroker"
)

func TestBrokerFlags(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"WSGATE_NATS":         "nats://a:4222,nats://b:4222",
		"WSGATE_NATS_CREDS":   "/etc/wsgate/nats.creds",
		"WSGATE_NATS_TLS_CA":  "/etc/wsgate/ca.pem",
		"WSGATE_HISTORY_SIZE": "500",
	}
	o, err := parseFlags([]string{"--history-age", "90m"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	want := brokerOptions{nats: "nats://a:4222,nats://b:4222", natsCreds: "/etc/wsgate/nats.creds", natsTLSCA: "/etc/wsgate/ca.pem", historySize: 500, historyAge: 90 * time.Minute}
	if o.broker != want {
		t.Errorf("broker flags %+v, want %+v", o.broker, want)
	}
	o, err = parseFlags(nil, noEnv, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.broker.nats != "" || o.broker.historySize != wsgate.DefaultHistorySize || o.broker.historyAge != natsbroker.DefaultHistoryAge {
		t.Errorf("broker defaults %+v", o.broker)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--history-size", "0"}, "wsgate: --history-size 0: want 1 or more"},
		{[]string{"--history-age", "0s"}, "wsgate: --history-age 0s: want more than 0"},
		{[]string{"--nats-creds", "x"}, "wsgate: --nats-creds and --nats-tls-ca need --nats"},
	} {
		if _, err := parseFlags(tt.args, noEnv, &bytes.Buffer{}); err == nil || err.Error() != tt.want {
			t.Errorf("%q: err %v, want %q", tt.args, err, tt.want)
		}
	}
}

// TestRunWithNATSUnreachable: a NATS that cannot be reached stops the
// start with a message that says so.
func TestRunWithNATSUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nobody listens there now
	err = Run(context.Background(), []string{"--listen", "127.0.0.1:0", "--nats", "nats://" + addr}, noEnv, io.Discard, io.Discard, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "wsgate: --nats: natsbroker: connect to nats://"+addr) {
		t.Fatalf("err = %v", err)
	}
}

// TestRunWithNATS: wsgate --nats serves through NATS: /readyz and
// /metrics report the broker, and a publication goes through it.
func TestRunWithNATS(t *testing.T) {
	t.Parallel()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, JetStream: true, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	defer func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	}()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS not ready")
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"--listen", "127.0.0.1:0", "--nats", ns.ClientURL(), "--history-size", "10"}, noEnv, logs, logs, ready)
	}()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run: %v\n%s", err, logs)
	}
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz: %d %s", code, body)
	}
	if _, body := get("/metrics"); !strings.Contains(body, "wsgate_broker_up 1") || !strings.Contains(body, "wsgate_broker_jetstream 1") {
		t.Errorf("/metrics lacks the broker's state:\n%s", body)
	}
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr.String()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"sub":"cli.nats"}`))
	c.WriteMessage(websocket.TextMessage, []byte(`{"id":2,"pub":"cli.nats","data":"hi"}`))
	var sawPub bool
	for !sawPub {
		_, b, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v\n%s", err, logs)
		}
		sawPub = bytes.Contains(b, []byte(`"ch":"cli.nats","seq":1,"data":"hi"`))
	}
	if !strings.Contains(logs.String(), `broker="NATS (--nats)"`) {
		t.Errorf("the start-up log does not name the broker:\n%s", logs)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v\n%s", err, logs)
	}
}
