package natsbroker

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"testing"

	"github.com/wsgate/wsgate"
)

// TestDownCostsNothing: while NATS is unreachable, Publish, History and
// Subscribe fail at once with ErrUnavailable, and however many are made
// no goroutine is left behind for them. (Not parallel: it counts the
// process's goroutines.)
func TestDownCostsNothing(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	b, err := New(Options{URL: ns.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cancel, err := b.Subscribe("kept", func(p wsgate.Publication) {})
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	if err := b.Ready(); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	ns.Shutdown()
	ns.WaitForShutdown()
	waitFor(t, "the connection to drop", func() bool { return b.Ready() != nil })
	if err := b.Ready(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ready while down: %v", err)
	}
	before := runtime.NumGoroutine()
	for range 1000 {
		if _, err := b.Publish(context.Background(), "c", json.RawMessage("1")); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Publish while down: %v", err)
		}
		if _, err := b.History(context.Background(), "c", nil); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("History while down: %v", err)
		}
		if _, err := b.Subscribe("c", func(wsgate.Publication) {}); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Subscribe while down: %v", err)
		}
	}
	if after := runtime.NumGoroutine(); after > before+2 {
		t.Errorf("goroutines went from %d to %d while NATS was down", before, after)
	}
	b.Close()
	if _, err := b.Publish(context.Background(), "c", json.RawMessage("1")); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close: %v", err)
	}
}
