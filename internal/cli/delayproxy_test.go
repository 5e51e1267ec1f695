package cli

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestDelayProxyCommand: wsgate delayproxy forwards to a live node, each
// round trip at least twice the delay longer, until its context ends.
func TestDelayProxyCommand(t *testing.T) {
	t.Parallel()
	node := startNodeServer(t, "far", "ap-south")
	const delay = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runDelayProxy(ctx, []string{"--listen", "127.0.0.1:0", "--to", node[len("http://"):], "--delay", delay.String()}, io.Discard, io.Discard, ready)
	}()
	addr := <-ready
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	start := time.Now()
	resp, err := client.Get("http://" + addr + "/edge/ping")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if took := time.Since(start); resp.StatusCode != http.StatusOK || took < 2*delay {
		t.Errorf("GET /edge/ping through the proxy: %s in %v, want 200 after at least %v", resp.Status, took, 2*delay)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("delayproxy: %v", err)
	}
}

// TestDelayProxyMistakes: no --to, or a negative delay, is a usage error.
func TestDelayProxyMistakes(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"delayproxy"}, {"delayproxy", "--to", "127.0.0.1:1", "--delay", "-1s"}, {"delayproxy", "--to", "127.0.0.1:1", "extra"}} {
		err := Run(context.Background(), args, noEnv, io.Discard, io.Discard, nil)
		var u *usageError
		if !errors.As(err, &u) || u.HelpCommand() != "wsgate delayproxy" {
			t.Errorf("%v: %v, want a usage error pointing at wsgate delayproxy --help", args, err)
		}
	}
}
