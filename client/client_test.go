package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/client"
)

func TestCall(t *testing.T) {
	t.Parallel()
	n := startNode(t, nil, 0)
	n.srv.Handle("add", func(ctx context.Context, args json.RawMessage) (any, error) {
		var p struct{ A, B int }
		if err := json.Unmarshal(args, &p); err != nil {
			return nil, wsgate.Errorf(wsgate.CodeBadRequest, "args: %v", err)
		}
		return map[string]int{"sum": p.A + p.B}, nil
	})
	c := dial(t, []string{n.url}, fast(newRecorder()))
	ctx := ctxGuard(t)

	tests := []struct {
		name     string
		method   string
		args     any
		want     string
		wantCode string
	}{
		{"struct args", "add", map[string]int{"a": 2, "b": 3}, `{"sum":5}`, ""},
		{"raw args", "add", json.RawMessage(`{"a":40,"b":2}`), `{"sum":42}`, ""},
		{"bad args", "add", []byte(`[1]`), "", "bad_request"},
		{"no such method", "nope", nil, "", "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Call(ctx, tt.method, tt.args)
			if tt.wantCode != "" {
				var e *client.Error
				if !errors.As(err, &e) || e.Code != tt.wantCode {
					t.Fatalf("Call = %s, %v; want a %s error", got, err, tt.wantCode)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("Call = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
	if _, err := c.Call(ctx, "add", json.RawMessage(`{not json`)); err == nil {
		t.Error("Call with invalid raw args succeeded")
	}
}

// TestCallConcurrent checks that replies are matched to calls by id.
func TestCallConcurrent(t *testing.T) {
	t.Parallel()
	n := startNode(t, nil, 0)
	n.srv.Handle("echo", func(ctx context.Context, args json.RawMessage) (any, error) { return args, nil })
	c := dial(t, []string{n.url}, fast(newRecorder()))
	ctx := ctxGuard(t)
	errs := make(chan error, 50)
	for i := range 50 {
		go func() {
			want, _ := json.Marshal(map[string]int{"i": i})
			got, err := c.Call(ctx, "echo", json.RawMessage(want))
			if err == nil && string(got) != string(want) {
				err = errors.New("got " + string(got) + ", want " + string(want))
			}
			errs <- err
		}()
	}
	for range 50 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestCallContext checks that Call gives up when its context ends,
// leaving the connection usable.
func TestCallContext(t *testing.T) {
	t.Parallel()
	n := startNode(t, nil, 0)
	release := make(chan struct{})
	n.srv.Handle("slow", func(ctx context.Context, args json.RawMessage) (any, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return "late", nil
	})
	n.srv.Handle("fast", func(ctx context.Context, args json.RawMessage) (any, error) { return "ok", nil })
	c := dial(t, []string{n.url}, fast(newRecorder()))
	t.Cleanup(func() { close(release) })

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Call(ctx, "slow", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call = %v, want DeadlineExceeded", err)
	}
	if got, err := c.Call(ctxGuard(t), "fast", nil); err != nil || string(got) != `"ok"` {
		t.Fatalf("Call after a timeout = %s, %v", got, err)
	}
}

func TestSubscribePublish(t *testing.T) {
	t.Parallel()
	n := startNode(t, nil, 0)
	r := newRecorder()
	c := dial(t, []string{n.url}, fast(r))
	ctx := ctxGuard(t)
	sub := subscribe(t, c, "chat", r)
	if sub.Channel() != "chat" {
		t.Errorf("Channel() = %q", sub.Channel())
	}
	for i := 1; i <= 5; i++ {
		seq, err := c.Publish(ctx, "chat", map[string]int{"n": i})
		if err != nil || seq != uint64(i) {
			t.Fatalf("Publish %d = %d, %v", i, seq, err)
		}
	}
	r.waitPublications(t, 5)
	r.checkExactlyOnce(t, 5)
	r.mu.Lock()
	if m := r.msgs[0]; m.Channel != "chat" || m.Pos.Epoch == "" {
		t.Errorf("first message %+v: want channel chat and an epoch", m)
	}
	r.mu.Unlock()

	if _, err := c.Subscribe(ctx, "chat", r.handle); !errors.Is(err, client.ErrSubscribed) {
		t.Errorf("second Subscribe = %v, want ErrSubscribed", err)
	}
	if _, err := c.Subscribe(ctx, "bad name!", r.handle); err == nil {
		t.Error("Subscribe to an invalid name succeeded")
	}
}

// TestUnsubscribe checks that the handler is not called once
// Unsubscribe returned, and that the channel can be subscribed again.
func TestUnsubscribe(t *testing.T) {
	t.Parallel()
	n := startNode(t, nil, 0)
	r := newRecorder()
	c := dial(t, []string{n.url}, fast(r))
	ctx := ctxGuard(t)
	sub := subscribe(t, c, "news", r)
	n.publish(t, "news", 1, 3)
	r.waitPublications(t, 3)
	if err := sub.Unsubscribe(ctx); err != nil {
		t.Fatal(err)
	}
	n.publish(t, "news", 4, 6)
	// A second subscription, on another channel, shows that the
	// publications above had their chance to arrive.
	other := newRecorder()
	subscribe(t, c, "other", other)
	n.publish(t, "other", 1, 1)
	other.waitPublications(t, 1)
	r.checkExactlyOnce(t, 3)

	again := newRecorder()
	subscribe(t, c, "news", again)
	n.publish(t, "news", 7, 7)
	again.waitPublications(t, 7)
}

func TestClose(t *testing.T) {
	t.Parallel()
	n := startNode(t, nil, 0)
	r := newRecorder()
	c := dial(t, []string{n.url}, fast(r))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := ctxGuard(t)
	if _, err := c.Call(ctx, "x", nil); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Call after Close = %v, want ErrClosed", err)
	}
	if _, err := c.Publish(ctx, "x", nil); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Publish after Close = %v, want ErrClosed", err)
	}
	if _, err := c.Subscribe(ctx, "x", r.handle); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Subscribe after Close = %v, want ErrClosed", err)
	}
	if got := r.count(client.StateClosed); got != 1 {
		t.Errorf("%d StateClosed events, want 1", got)
	}
	eventually(t, "the server to see the connection end", func() bool { return n.srv.Conns() == 0 })
}

func TestDialErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		seeds []string
	}{
		{"no seeds", nil},
		{"bad scheme", []string{"ftp://example.com"}},
		{"no host", []string{"http://"}},
	}
	for _, tt := range tests {
		if _, err := client.Dial(ctxGuard(t), tt.seeds, client.Options{}); err == nil {
			t.Errorf("%s: Dial succeeded", tt.name)
		}
	}
}
