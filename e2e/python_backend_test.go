package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsgate/wsgate"
)

// TestPythonBackendCachedByHeaderAlone runs the README's Python backend
// (examples/python-backend/backend.py, standard library only) and calls it
// through wsgate: its Cache-Control header alone makes repeated calls
// answer from wsgate's cache.
func TestPythonBackendCachedByHeaderAlone(t *testing.T) {
	t.Parallel()
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		peerMissing(t, "python", python+" is missing")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "../examples/python-backend/backend.py", fmt.Sprint(port))
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel() // kills the backend, which serves until killed
		cmd.Wait()
	}()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("python backend did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}

	srv, err := wsgate.New(wsgate.Config{Backend: "http://" + addr + "/rpc", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	defer srv.Close()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	call := func(msg string) (json.RawMessage, string, time.Duration) {
		start := time.Now()
		c.WriteMessage(websocket.TextMessage, []byte(msg))
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, b, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Result json.RawMessage
			Error  *struct{ Code string }
		}
		json.Unmarshal(b, &r)
		code := ""
		if r.Error != nil {
			code = r.Error.Code
		}
		return r.Result, code, time.Since(start)
	}
	first, _, _ := call(`{"id":1,"call":"weather.get","args":{"city":"Oslo"}}`)
	if !strings.Contains(string(first), `"city": "Oslo"`) {
		t.Fatalf("first call: %s", first)
	}
	second, _, took := call(`{"id":2,"call":"weather.get","args":{"city":"Oslo"}}`)
	if string(second) != string(first) {
		t.Errorf("second call %s, want the cached %s", second, first)
	}
	if took >= 200*time.Millisecond {
		t.Logf("cached call took %v (the backend sleeps 200ms)", took)
	}
	other, _, _ := call(`{"id":3,"call":"weather.get","args":{"city":"Lima"}}`)
	if string(other) == string(first) {
		t.Error("another city got Oslo's cached result")
	}
	if _, code, _ := call(`{"id":4,"call":"weather.nope"}`); code != "not_found" {
		t.Errorf("unknown method on the backend: code %q, want not_found", code)
	}
}
