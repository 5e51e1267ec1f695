package cache_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/wsgate/wsgate/internal/backend"
	"github.com/wsgate/wsgate/internal/cache"
)

// The server puts the cache in front of an HTTP backend like this: the
// LoadFunc calls the backend and turns its Cache-Control into a Result.
func Example() {
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		requests++
		w.Header().Set("Cache-Control", "max-age=60, stale-while-revalidate=30")
		_, _ = io.WriteString(w, `{"symbol":"ACME","price":123.45}`)
	}))
	defer srv.Close()
	client, err := backend.New(backend.Config{URL: srv.URL})
	if err != nil {
		panic(err)
	}
	defer client.Close()

	c, err := cache.New(cache.Config{MaxBytes: 32 << 20})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	load := func(ctx context.Context, r cache.Request) (cache.Result, error) {
		resp, err := client.Call(ctx, r.Method, r.Args, r.User)
		if err != nil {
			return cache.Result{}, err // a *backend.Error: its Code is the wire code
		}
		return cache.Result{
			Value:                resp.Body,
			TTL:                  resp.Cache.TTL(),
			StaleWhileRevalidate: resp.Cache.StaleFor(),
			Private:              resp.Cache.Private,
		}, nil
	}

	for _, args := range []string{`{"symbol":"ACME"}`, `{ "symbol" : "ACME" }`} {
		e, src, err := c.Get(context.Background(), cache.Request{Method: "market.quote", Args: []byte(args)}, load)
		if err != nil {
			panic(err)
		}
		fmt.Println(src, string(e.Value))
	}
	fmt.Println("backend requests:", requests)
	// Output:
	// miss {"symbol":"ACME","price":123.45}
	// hit {"symbol":"ACME","price":123.45}
	// backend requests: 1
}
