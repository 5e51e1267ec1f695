package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/backend"
)

func TestInvalidate(t *testing.T) {
	t.Parallel()
	// Four entries: two market.history calls, one market.symbols, one orders.get.
	calls := []Request{
		req("market.history", `{"symbol":"ACME","points":5}`),
		req("market.history", `{"symbol":"GLOBEX"}`),
		req("market.symbols", ``),
		req("orders.get", `{"id":"A1"}`),
	}
	tests := []struct {
		name    string
		inv     Invalidation
		removed int
		gone    []int // indexes of calls that miss afterwards
		canon   Invalidation
	}{
		{"one call, other member order", Invalidation{Method: "market.history", Args: []byte(` {"points":5, "symbol":"ACME"} `)}, 1, []int{0},
			Invalidation{Method: "market.history", Args: []byte(`{"points":5,"symbol":"ACME"}`)}},
		{"one call without args", Invalidation{Method: "market.symbols", Args: []byte(`null`)}, 1, []int{2},
			Invalidation{Method: "market.symbols", Args: []byte(`null`)}},
		{"absent call", Invalidation{Method: "market.history", Args: []byte(`{"symbol":"X"}`)}, 0, nil,
			Invalidation{Method: "market.history", Args: []byte(`{"symbol":"X"}`)}},
		{"method", Invalidation{Method: "market.history"}, 2, []int{0, 1},
			Invalidation{Method: "market.history"}},
		{"method is not a prefix", Invalidation{Method: "market"}, 0, nil,
			Invalidation{Method: "market"}},
		{"prefix", Invalidation{Prefix: "market."}, 3, []int{0, 1, 2},
			Invalidation{Prefix: "market."}},
		{"prefix of a name", Invalidation{Prefix: "ord"}, 1, []int{3},
			Invalidation{Prefix: "ord"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hooked []Invalidation
			c, _ := newCache(t, Config{OnInvalidate: func(inv Invalidation) { hooked = append(hooked, inv) }})
			l := &counter{res: Result{TTL: time.Minute}}
			for _, r := range calls {
				mustGet(t, c, r, l.load)
			}
			n, err := c.Invalidate(tt.inv)
			if err != nil || n != tt.removed {
				t.Fatalf("Invalidate: %d, %v; want %d", n, err, tt.removed)
			}
			if len(hooked) != 1 || hooked[0].Method != tt.canon.Method || hooked[0].Prefix != tt.canon.Prefix || string(hooked[0].Args) != string(tt.canon.Args) {
				t.Errorf("OnInvalidate got %+v, want %+v", hooked, tt.canon)
			}
			for i, r := range calls {
				_, src := mustGet(t, c, r, l.load)
				gone := false
				for _, g := range tt.gone {
					gone = gone || g == i
				}
				if want := map[bool]Source{true: Miss, false: Hit}[gone]; src != want {
					t.Errorf("call %d (%s %s): %v, want %v", i, r.Method, r.Args, src, want)
				}
			}
			if s := c.Stats(); s.Invalidated != uint64(tt.removed) {
				t.Errorf("Invalidated %d, want %d", s.Invalidated, tt.removed)
			}
		})
	}
}

func TestApply(t *testing.T) {
	t.Parallel()
	hooked := 0
	c, _ := newCache(t, Config{OnInvalidate: func(Invalidation) { hooked++ }})
	l := &counter{res: Result{TTL: time.Minute}}
	mustGet(t, c, req("a.b", `[1]`), l.load)
	if n, err := c.Apply(Invalidation{Prefix: "a."}); n != 1 || err != nil {
		t.Fatalf("Apply: %d %v", n, err)
	}
	if hooked != 0 {
		t.Fatal("Apply called OnInvalidate")
	}
	if _, src := mustGet(t, c, req("a.b", `[1]`), l.load); src != Miss {
		t.Fatal(src)
	}
}

func TestInvalidateRejects(t *testing.T) {
	t.Parallel()
	c, _ := newCache(t, Config{OnInvalidate: func(Invalidation) { t.Error("hook called") }})
	for _, inv := range []Invalidation{
		{},
		{Method: "a", Prefix: "a"},
		{Prefix: "a", Args: []byte(`1`)},
		{Args: []byte(`1`)},
		{Method: "a\x00"},
		{Prefix: "\x00"},
	} {
		if _, err := c.Invalidate(inv); !errors.Is(err, ErrInvalidInvalidation) {
			t.Errorf("Invalidate(%+v): %v", inv, err)
		}
	}
	if _, err := c.Invalidate(Invalidation{Method: "a", Args: []byte(`{`)}); !errors.Is(err, ErrInvalidArgs) {
		t.Errorf("bad args: %v", err)
	}
}

// TestInvalidateDuringLoad: a load that began before an invalidation answers
// its waiters but is not stored.
func TestInvalidateDuringLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		inv  Invalidation
		user string
	}{
		{"exact", Invalidation{Method: "m", Args: []byte(`{"b":1,"a":2}`)}, ""},
		{"exact, user's load", Invalidation{Method: "m", Args: []byte(`{"a":2,"b":1}`)}, "alice"},
		{"method", Invalidation{Method: "m"}, ""},
		{"prefix", Invalidation{Prefix: "m"}, "bob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := newCache(t, Config{})
			started, release := make(chan struct{}), make(chan struct{})
			l := &counter{res: Result{TTL: time.Minute}}
			slow := func(ctx context.Context, r Request) (Result, error) {
				close(started)
				<-release
				return l.load(ctx, r)
			}
			r := Request{Method: "m", Args: []byte(`{"a":2,"b":1}`), User: tt.user}
			var wg sync.WaitGroup
			wg.Go(func() {
				if v, src := mustGet(t, c, r, slow); v != `{"n":1}` || src != Miss {
					t.Errorf("in-flight call: %s %v", v, src)
				}
			})
			<-started
			if _, err := c.Invalidate(tt.inv); err != nil {
				t.Fatal(err)
			}
			close(release)
			wg.Wait()
			if v, src := mustGet(t, c, r, l.load); v != `{"n":2}` || src != Miss {
				t.Fatalf("after: %s %v, want a new load", v, src)
			}
		})
	}
}

func TestPrivate(t *testing.T) {
	t.Parallel()
	c, _ := newCache(t, Config{})
	b := &countingBackend{cc: "private, max-age=60"}
	load := startBackend(t, b, backend.Config{})
	r := req("me.profile", `{}`)
	as := func(user string) Request { r := r; r.User = user; return r }

	if v, _ := mustGet(t, c, as("alice"), load); v != `{"n":1,"user":"alice"}` {
		t.Fatal(v)
	}
	if v, src := mustGet(t, c, as("bob"), load); v != `{"n":2,"user":"bob"}` || src != Miss {
		t.Fatalf("bob got %s (%v): alice's private result leaked", v, src)
	}
	if v, src := mustGet(t, c, as("alice"), load); v != `{"n":1,"user":"alice"}` || src != Hit {
		t.Fatalf("alice again: %s %v", v, src)
	}
	// An anonymous caller never gets a private result from the cache, nor
	// is one stored for it.
	for i := range 2 {
		if v, src := mustGet(t, c, as(""), load); v != fmt.Sprintf(`{"n":%d,"user":""}`, 3+i) || src != Miss {
			t.Fatalf("anonymous %d: %s %v", i, v, src)
		}
	}
	// Invalidating the call drops every user's entry.
	if n, err := c.Invalidate(Invalidation{Method: "me.profile", Args: []byte(`{}`)}); n != 2 || err != nil {
		t.Fatalf("Invalidate: %d %v, want 2 entries", n, err)
	}
	if _, src := mustGet(t, c, as("alice"), load); src != Miss {
		t.Fatal(src)
	}
}

func TestSharedResultWithUser(t *testing.T) {
	t.Parallel()
	c, _ := newCache(t, Config{})
	b := &countingBackend{cc: "max-age=60"}
	load := startBackend(t, b, backend.Config{})
	r := req("market.symbols", ``)
	r.User = "alice"
	mustGet(t, c, r, load)
	r.User = "bob"
	if v, src := mustGet(t, c, r, load); src != Hit || v != `{"n":1,"user":"alice"}` {
		t.Fatalf("a public result is shared: %s %v", v, src)
	}
	r.User = ""
	if _, src := mustGet(t, c, r, load); src != Hit {
		t.Fatal(src)
	}
	// The backend now says the result is private: the shared copy goes.
	b.cc = "private, max-age=60"
	if _, err := c.Invalidate(Invalidation{Method: "market.symbols"}); err != nil {
		t.Fatal(err)
	}
	r.User = "carol"
	mustGet(t, c, r, load)
	r.User = "dave"
	if v, src := mustGet(t, c, r, load); src != Miss || v != `{"n":3,"user":"dave"}` {
		t.Fatalf("dave: %s %v", v, src)
	}
}
