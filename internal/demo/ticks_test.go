package demo

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
)

func TestWalk(t *testing.T) {
	t.Parallel()
	w := newWalk(1)
	now := time.UnixMilli(1_700_000_000_123)
	for step := range 2000 {
		for i, s := range w.syms {
			b := w.tick(nil, i, now)
			var tk struct {
				Symbol string
				Price  float64
				TS     int64
			}
			if err := json.Unmarshal(b, &tk); err != nil {
				t.Fatalf("tick %s is not JSON: %v", b, err)
			}
			if tk.Symbol != s.name || tk.TS != now.UnixMilli() {
				t.Fatalf("tick %s: want symbol %s, ts %d", b, s.name, now.UnixMilli())
			}
			if tk.Price < s.price/2 || tk.Price > s.price*2 {
				t.Fatalf("step %d: %s wandered to %v from %v", step, s.name, tk.Price, s.price)
			}
		}
	}
}

func newServer(t *testing.T) *wsgate.Server {
	t.Helper()
	s, err := wsgate.New(wsgate.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRunTicksStops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		stop func(cancel context.CancelFunc, s *wsgate.Server)
	}{
		{"context cancelled", func(cancel context.CancelFunc, _ *wsgate.Server) { cancel() }},
		{"server closed", func(_ context.CancelFunc, s *wsgate.Server) { s.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- RunTicks(ctx, s, time.Millisecond) }()
			time.Sleep(20 * time.Millisecond)
			tt.stop(cancel, s)
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("RunTicks = %v, want nil", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("RunTicks did not return")
			}
		})
	}
}
