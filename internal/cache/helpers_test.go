package cache

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/backend"
)

// fakeClock is a Clock the test moves by hand.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// newCache returns a cache on a fake clock, closed when the test ends.
func newCache(t testing.TB, cfg Config) (*Cache, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	if cfg.Clock == nil {
		cfg.Clock = clock
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, clock
}

// counter is a LoadFunc that counts its calls and answers
// {"n":<call number>} with a fixed policy.
type counter struct {
	calls atomic.Int64
	res   Result
}

func (l *counter) load(_ context.Context, r Request) (Result, error) {
	n := l.calls.Add(1)
	res := l.res
	res.Value = fmt.Appendf(nil, `{"n":%d}`, n)
	return res, nil
}

// countingBackend is an HTTP backend that counts requests, answers each
// with {"n":<request number>} and the given Cache-Control, after waiting
// for release when it is not nil.
type countingBackend struct {
	requests atomic.Int64
	cc       string
	release  chan struct{}
}

func (b *countingBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	n := b.requests.Add(1)
	if b.release != nil {
		<-b.release
	}
	if b.cc != "" {
		w.Header().Set("Cache-Control", b.cc)
	}
	fmt.Fprintf(w, `{"n":%d,"user":%q}`, n, r.Header.Get(backend.UserHeader))
}

// startBackend serves b over HTTP and returns the LoadFunc that calls it
// through a backend.Client, the way the server wires them.
func startBackend(t testing.TB, b *countingBackend, cfg backend.Config) LoadFunc {
	t.Helper()
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	cfg.URL = srv.URL
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	client, err := backend.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	return viaBackend(client)
}

// viaBackend is the glue between a backend.Client and the cache.
func viaBackend(client *backend.Client) LoadFunc {
	return func(ctx context.Context, r Request) (Result, error) {
		resp, err := client.Call(ctx, r.Method, r.Args, r.User)
		if err != nil {
			return Result{}, err
		}
		return Result{
			Value:                resp.Body,
			TTL:                  resp.Cache.TTL(),
			StaleWhileRevalidate: resp.Cache.StaleFor(),
			Private:              resp.Cache.Private,
		}, nil
	}
}

func mustGet(t testing.TB, c *Cache, r Request, load LoadFunc) (string, Source) {
	t.Helper()
	e, src, err := c.Get(context.Background(), r, load)
	if err != nil {
		t.Fatalf("Get(%s %s): %v", r.Method, r.Args, err)
	}
	return string(e.Value), src
}

func req(method, args string) Request {
	return Request{Method: method, Args: []byte(args)}
}
