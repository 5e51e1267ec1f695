package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/backend"
	"github.com/wsgate/wsgate/internal/errcode"
)

func TestTTL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ttl  time.Duration
	}{
		{"1s", time.Second},
		{"5s", 5 * time.Second},
		{"60s", time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, clock := newCache(t, Config{})
			l := &counter{res: Result{TTL: tt.ttl}}
			r := req("m", `{"a":1}`)
			if v, src := mustGet(t, c, r, l.load); v != `{"n":1}` || src != Miss {
				t.Fatalf("first: %s %v", v, src)
			}
			clock.Add(tt.ttl - time.Second)
			if v, src := mustGet(t, c, r, l.load); v != `{"n":1}` || src != Hit {
				t.Fatalf("one second before the TTL: %s %v", v, src)
			}
			clock.Add(time.Second - time.Nanosecond)
			if v, src := mustGet(t, c, r, l.load); v != `{"n":1}` || src != Hit {
				t.Fatalf("one nanosecond before the TTL: %s %v", v, src)
			}
			clock.Add(time.Nanosecond)
			if v, src := mustGet(t, c, r, l.load); v != `{"n":2}` || src != Miss {
				t.Fatalf("at the TTL: %s %v", v, src)
			}
		})
	}
}

func TestTTLFromBackend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cc     string
		fresh  time.Duration // 0: not stored
		stored bool
	}{
		{"max-age=10", 10 * time.Second, true},
		{"max-age=60, s-maxage=3", 3 * time.Second, true},
		{"public, max-age=1", time.Second, true},
		{"no-store, max-age=60", 0, false},
		{"no-cache, max-age=60", 0, false},
		{"", 0, false},
		{"max-age=0", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.cc, func(t *testing.T) {
			t.Parallel()
			c, clock := newCache(t, Config{})
			b := &countingBackend{cc: tt.cc}
			load := startBackend(t, b, backend.Config{})
			r := req("m", `{}`)
			mustGet(t, c, r, load)
			if !tt.stored {
				mustGet(t, c, r, load)
				if n := b.requests.Load(); n != 2 {
					t.Fatalf("%d backend requests for two calls, want 2 (not stored)", n)
				}
				return
			}
			clock.Add(tt.fresh - time.Second)
			if _, src := mustGet(t, c, r, load); src != Hit {
				t.Fatalf("a second before max-age: %v", src)
			}
			clock.Add(time.Second)
			if _, src := mustGet(t, c, r, load); src != Miss {
				t.Fatalf("at max-age: %v", src)
			}
			if n := b.requests.Load(); n != 2 {
				t.Fatalf("%d backend requests, want 2", n)
			}
		})
	}
}

// TestCoalescing sends 10,000 concurrent calls for one cold key through an
// HTTP backend and counts the requests it receives.
func TestCoalescing(t *testing.T) {
	t.Parallel()
	const calls = 10_000
	c, _ := newCache(t, Config{})
	b := &countingBackend{cc: "max-age=60", release: make(chan struct{})}
	load := startBackend(t, b, backend.Config{})

	var wg sync.WaitGroup
	results := make(chan string, calls)
	sources := make([]Source, calls)
	for i := range calls {
		wg.Go(func() {
			// Equivalent args in different forms share the key.
			args := `{"symbol":"ACME","points":5}`
			if i%2 == 1 {
				args = `{ "points": 5, "symbol": "\u0041CME" }`
			}
			e, src, err := c.Get(context.Background(), req("market.history", args), load)
			if err != nil {
				t.Error(err)
				return
			}
			sources[i] = src
			results <- string(e.Value)
		})
	}
	// Hold the backend until every call is waiting, so that all of them
	// are concurrent misses rather than late hits.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		s := c.Stats()
		if s.Misses+s.Coalesced == calls {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d calls waiting", s.Misses+s.Coalesced)
		}
	}
	close(b.release)
	wg.Wait()
	close(results)

	if n := b.requests.Load(); n != 1 {
		t.Errorf("backend got %d requests for %d concurrent calls, want 1", n, calls)
	}
	for v := range results {
		if v != `{"n":1,"user":""}` {
			t.Fatalf("result %s", v)
		}
	}
	count := map[Source]int{}
	for _, s := range sources {
		count[s]++
	}
	if count[Miss] != 1 || count[Coalesced] != calls-1 {
		t.Errorf("sources %v, want 1 miss and %d coalesced", count, calls-1)
	}
	if s := c.Stats(); s.Misses != 1 || s.Coalesced != calls-1 || s.Entries != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestWaiterLeaves(t *testing.T) {
	t.Parallel()
	c, _ := newCache(t, Config{})
	release := make(chan struct{})
	started := make(chan struct{})
	loadCtxErr := make(chan error, 1)
	load := func(ctx context.Context, r Request) (Result, error) {
		close(started)
		<-release
		loadCtxErr <- ctx.Err()
		return Result{Value: []byte(`"v"`), TTL: time.Minute}, nil
	}
	r := req("m", `1`)

	// The caller that starts the load leaves, and so does a waiter.
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	leader := make(chan error, 1)
	go func() {
		_, _, err := c.Get(leaderCtx, r, load)
		leader <- err
	}()
	<-started
	waiterCtx, cancelWaiter := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancelWaiter()
	if _, src, err := c.Get(waiterCtx, r, load); src != Coalesced || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiter: %v %v", src, err)
	}
	cancelLeader()
	if err := <-leader; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader: %v", err)
	}

	// A third caller still joins the same load, which was not cancelled.
	third := make(chan string, 1)
	go func() {
		v, src := mustGet(t, c, r, load)
		third <- v + " " + src.String()
	}()
	waitUntil(t, "the third caller joins the load", func() bool { return c.Stats().Coalesced == 2 })
	close(release)
	if got := <-third; got != `"v" coalesced` {
		t.Fatalf("third caller: %s", got)
	}
	if err := <-loadCtxErr; err != nil {
		t.Fatalf("the load's context ended: %v", err)
	}
	if _, src := mustGet(t, c, r, load); src != Hit {
		t.Fatalf("after the load: %v", src)
	}
}

func TestLoadTimeout(t *testing.T) {
	t.Parallel()
	c, _ := newCache(t, Config{LoadTimeout: 30 * time.Millisecond})
	load := func(ctx context.Context, r Request) (Result, error) {
		<-ctx.Done()
		return Result{}, ctx.Err()
	}
	_, _, err := c.Get(context.Background(), req("m", ``), load)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the load's deadline", err)
	}
}

func TestStaleWhileRevalidate(t *testing.T) {
	t.Parallel()
	c, clock := newCache(t, Config{})
	b := &countingBackend{cc: "max-age=10, stale-while-revalidate=30"}
	load := startBackend(t, b, backend.Config{})
	r := req("m", `{"x":1}`)
	if v, src := mustGet(t, c, r, load); v != `{"n":1,"user":""}` || src != Miss {
		t.Fatalf("first: %s %v", v, src)
	}

	// Past the TTL, inside the window: the old value at once, one refresh.
	clock.Add(15 * time.Second)
	b.release = make(chan struct{}) // hold the refresh (no request runs now)
	for i := range 20 {
		r := r
		r.User = []string{"", "alice", "bob"}[i%3] // one refresh per entry, whoever asks
		v, src := mustGet(t, c, r, load)
		if v != `{"n":1,"user":""}` || src != Stale {
			t.Fatalf("stale call %d: %s %v", i, v, src)
		}
	}
	if s := c.Stats(); s.Refreshes != 1 || s.StaleHits != 20 {
		t.Fatalf("stats %+v: want 1 refresh for 20 stale hits", s)
	}
	close(b.release)
	var v string
	var src Source
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if v, src = mustGet(t, c, r, load); src == Hit {
			break
		}
	}
	if v != `{"n":2,"user":""}` || src != Hit {
		t.Fatalf("after the refresh: %s %v", v, src)
	}
	if n := b.requests.Load(); n != 2 {
		t.Fatalf("backend got %d requests, want 2", n)
	}

	// Past TTL and window: a plain miss.
	clock.Add(41 * time.Second)
	if v, src := mustGet(t, c, r, load); v != `{"n":3,"user":""}` || src != Miss {
		t.Fatalf("after the window: %s %v", v, src)
	}
}

func TestStaleRefreshFails(t *testing.T) {
	t.Parallel()
	c, clock := newCache(t, Config{})
	fail := false
	var mu sync.Mutex
	calls := 0
	load := func(ctx context.Context, r Request) (Result, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if fail {
			return Result{}, errors.New("down")
		}
		return Result{Value: []byte(`"old"`), TTL: time.Second, StaleWhileRevalidate: time.Minute}, nil
	}
	r := req("m", ``)
	mustGet(t, c, r, load)
	mu.Lock()
	fail = true
	mu.Unlock()
	clock.Add(2 * time.Second)
	// Each failed refresh leaves the stale entry; the next stale hit
	// starts another one.
	for i := range 3 {
		if v, src := mustGet(t, c, r, load); v != `"old"` || src != Stale {
			t.Fatalf("%s %v", v, src)
		}
		waitUntil(t, fmt.Sprintf("failed refresh %d", i+1), func() bool { return c.Stats().LoadErrors == uint64(i+1) })
	}
	if s := c.Stats(); s.Refreshes != 3 {
		t.Fatalf("%d refreshes, want 3", s.Refreshes)
	}
}

func TestErrorsNotCached(t *testing.T) {
	t.Parallel()
	c, _ := newCache(t, Config{})
	tests := []struct {
		name string
		load LoadFunc
		is   error
	}{
		{"error", func(context.Context, Request) (Result, error) {
			return Result{}, &backend.Error{Code: errcode.NotFound, Message: "no"}
		}, nil},
		{"panic", func(context.Context, Request) (Result, error) { panic("boom") }, ErrLoadPanicked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for i := range 3 {
				_, src, err := c.Get(context.Background(), req(tt.name, `{}`), tt.load)
				if err == nil || src != Miss {
					t.Fatalf("call %d: %v %v, want a miss and an error", i, src, err)
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Fatalf("%v is not %v", err, tt.is)
				}
				if code, _ := backend.CodeOf(err); tt.is == nil && code != errcode.NotFound {
					t.Fatalf("code %q lost: %v", code, err)
				}
			}
		})
	}
}

func TestErrorShared(t *testing.T) {
	t.Parallel()
	c, _ := newCache(t, Config{})
	b := &countingBackend{release: make(chan struct{})}
	srvLoad := startBackend(t, b, backend.Config{})
	wantErr := &backend.Error{Code: errcode.Unavailable, Message: "down"}
	load := func(ctx context.Context, r Request) (Result, error) {
		if _, err := srvLoad(ctx, r); err != nil {
			return Result{}, err
		}
		return Result{}, wantErr
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, _, err := c.Get(context.Background(), req("m", ``), load); err != wantErr {
				t.Errorf("got %v, want the shared error", err)
			}
		})
	}
	waitUntil(t, "50 callers waiting on one load", func() bool { s := c.Stats(); return s.Misses+s.Coalesced >= 50 })
	close(b.release)
	wg.Wait()
	if n := b.requests.Load(); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	c, clock := newCache(t, Config{})
	loads := make(chan error, 2)
	load := func(ctx context.Context, r Request) (Result, error) {
		if string(r.Args) == `"slow"` {
			<-ctx.Done()
			loads <- ctx.Err()
			return Result{}, ctx.Err()
		}
		return Result{Value: []byte(`1`), TTL: time.Second, StaleWhileRevalidate: time.Minute}, nil
	}
	mustGet(t, c, req("m", `"stale"`), load)
	clock.Add(2 * time.Second)
	// A background refresh and a load that only Close can end.
	load2 := func(ctx context.Context, r Request) (Result, error) {
		r.Args = []byte(`"slow"`)
		return load(ctx, r)
	}
	if _, src := mustGet(t, c, req("m", `"stale"`), load2); src != Stale {
		t.Fatal(src)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, _, err := c.Get(ctx, req("m", `"other"`), load2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	c.Close()
	for range 2 {
		if err := <-loads; !errors.Is(err, context.Canceled) {
			t.Fatalf("load ended with %v, want cancelled by Close", err)
		}
	}
	if _, _, err := c.Get(context.Background(), req("m", `"new"`), load); !errors.Is(err, ErrClosed) {
		t.Fatalf("miss after Close: %v", err)
	}
	if _, src := mustGet(t, c, req("m", `"stale"`), load); src != Stale {
		t.Fatalf("entries stay readable: %v", src)
	}
	c.Close() // idempotent
}

func TestInvalidMethod(t *testing.T) {
	t.Parallel()
	c, _ := newCache(t, Config{})
	l := &counter{}
	if _, _, err := c.Get(context.Background(), req("a\x00b", ``), l.load); !errors.Is(err, ErrInvalidMethod) {
		t.Fatal(err)
	}
	if _, _, err := c.Get(context.Background(), req("a", `{"x":}`), l.load); !errors.Is(err, ErrInvalidArgs) {
		t.Fatal(err)
	}
	if l.calls.Load() != 0 {
		t.Fatal("loaded anyway")
	}
}

func TestSourceString(t *testing.T) {
	t.Parallel()
	for s, want := range map[Source]string{Hit: "hit", Stale: "stale", Miss: "miss", Coalesced: "coalesced", 9: "Source(9)"} {
		if got := fmt.Sprint(s); got != want {
			t.Errorf("%d: %q, want %q", s, got, want)
		}
	}
}

// waitUntil polls cond every millisecond and fails the test, naming what
// it waited for, when cond is still false after 10 seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
	}
}
