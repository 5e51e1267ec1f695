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

// TestCallAcrossReconnect: a call whose connection is lost fails with
// ErrConnectionLost; a call and a subscription made while the client is
// away wait and go out on the next connection.
func TestCallAcrossReconnect(t *testing.T) {
	t.Parallel()
	n := startNode(t, nil, 0)
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	n.srv.Handle("slow", func(ctx context.Context, args json.RawMessage) (any, error) {
		started <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return "late", nil
	})
	n.srv.Handle("fast", func(ctx context.Context, args json.RawMessage) (any, error) { return "ok", nil })
	t.Cleanup(func() { close(release) })
	r := newRecorder()
	c := dial(t, []string{n.url}, fast(r))
	ctx := ctxGuard(t)

	slow := make(chan error, 1)
	go func() {
		_, err := c.Call(ctx, "slow", nil)
		slow <- err
	}()
	<-started
	n.refuse.Store(true)
	n.proxy.Cut()
	if err := <-slow; !errors.Is(err, client.ErrConnectionLost) {
		t.Fatalf("call on the lost connection = %v, want ErrConnectionLost", err)
	}
	r.wait(t, "the disconnection", r.disconnected)

	later := make(chan error, 2)
	go func() {
		got, err := c.Call(ctx, "fast", nil)
		if err == nil && string(got) != `"ok"` {
			err = errors.New("got " + string(got))
		}
		later <- err
	}()
	subscribed := newRecorder()
	go func() {
		_, err := c.Subscribe(ctx, "news", subscribed.handle)
		later <- err
	}()
	n.refuse.Store(false)
	for range 2 {
		if err := <-later; err != nil {
			t.Fatalf("request made while away: %v", err)
		}
	}
	n.publish(t, "news", 1, 1)
	subscribed.waitPublications(t, 1)
}

// TestResubscribeRefused: a subscription the new node refuses to restore
// ends with a KindEnded message carrying the server's error; the others
// go on.
func TestResubscribeRefused(t *testing.T) {
	t.Parallel()
	broker := wsgate.NewMemoryBroker(wsgate.MemoryBrokerOptions{})
	t.Cleanup(func() { broker.Close() })
	roomy := startNode(t, broker, 0)
	strict := startNodeWith(t, wsgate.Config{Broker: broker, MaxSubscriptionsPerConn: 1}, 60*time.Millisecond)
	ra, rb := newRecorder(), newRecorder()
	c := dial(t, []string{roomy.url, strict.url}, fast(newRecorder()))
	subscribe(t, c, "a", ra)
	subscribe(t, c, "b", rb)
	roomy.kill()

	ended := func(r *recorder) bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.msgs) > 0 && r.msgs[len(r.msgs)-1].Kind == client.KindEnded
	}
	strict.publish(t, "a", 1, 1)
	strict.publish(t, "b", 1, 1)
	// One of the two is restored and gets its publication; the other ends.
	eventually(t, "one subscription restored, one ended", func() bool {
		return (ended(ra) && rb.len() > 0) || (ended(rb) && ra.len() > 0)
	})
	endedOne := ra
	if ended(rb) {
		endedOne = rb
	}
	endedOne.mu.Lock()
	defer endedOne.mu.Unlock()
	m := endedOne.msgs[len(endedOne.msgs)-1]
	var e *client.Error
	if !errors.As(m.Err, &e) || e.Code != "too_large" {
		t.Fatalf("ended with %v, want a too_large server error", m.Err)
	}
}

// TestSubscribeContext: a Subscribe whose context ends before the server
// confirms leaves no subscription behind.
func TestSubscribeContext(t *testing.T) {
	t.Parallel()
	n := startNode(t, nil, 0)
	r := newRecorder()
	c := dial(t, []string{n.url}, fast(r))
	n.refuse.Store(true)
	n.proxy.Cut()
	r.wait(t, "the disconnection", r.disconnected)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.Subscribe(ctx, "news", r.handle); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Subscribe = %v, want DeadlineExceeded", err)
	}
	n.refuse.Store(false)
	again := newRecorder()
	subscribe(t, c, "news", again) // not ErrSubscribed
	n.publish(t, "news", 1, 1)
	again.waitPublications(t, 1)
	if r.len() != 0 {
		t.Errorf("the abandoned subscription got %d messages", r.len())
	}
}
