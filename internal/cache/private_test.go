package cache

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/backend"
)

// TestPrivateNotCoalesced: anonymous callers waiting on one backend call
// whose answer turns out private (Cache-Control: private) each make their
// own call and get their own answer, and later ones do not wait at all;
// a non-private answer is still shared.
func TestPrivateNotCoalesced(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		cc       string
		requests int64 // backend requests for the first wave of 10 callers
		distinct int   // distinct answers they get
	}{
		{"private, max-age=60", 10, 10},
		{"max-age=60", 1, 1},
	} {
		t.Run(tt.cc, func(t *testing.T) {
			t.Parallel()
			const callers = 10
			c, _ := newCache(t, Config{})
			b := &countingBackend{cc: tt.cc, release: make(chan struct{})}
			load := startBackend(t, b, backend.Config{})
			var wg sync.WaitGroup
			answers := make(chan string, callers)
			for range callers {
				wg.Go(func() {
					e, _, err := c.Get(context.Background(), req("me.profile", `{}`), load)
					if err != nil {
						t.Error(err)
						return
					}
					answers <- string(e.Value)
				})
			}
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
				if s := c.Stats(); s.Misses+s.Coalesced == callers {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("callers not all waiting")
				}
			}
			close(b.release)
			wg.Wait()
			close(answers)
			seen := map[string]bool{}
			for a := range answers {
				seen[a] = true
			}
			if n := b.requests.Load(); n != tt.requests || len(seen) != tt.distinct {
				t.Fatalf("%d backend requests, %d distinct answers; want %d and %d", n, len(seen), tt.requests, tt.distinct)
			}
			// Once known private, an anonymous call neither waits on
			// nor is answered by another.
			before := b.requests.Load()
			e, src, err := c.Get(context.Background(), req("me.profile", `{}`), load)
			if err != nil {
				t.Fatal(err)
			}
			private := tt.distinct > 1
			if got := b.requests.Load() - before; private && (got != 1 || src != Miss || !e.Private()) {
				t.Fatalf("later anonymous call: %d requests, source %v, private %v", got, src, e.Private())
			}
			if !private && src != Hit {
				t.Fatalf("later call of a shared result: source %v, want a hit", src)
			}
		})
	}
}
