package backend_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/wsgate/wsgate/internal/backend"
)

func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch r.URL.Path {
		case "/api/market.symbols":
			w.Header().Set("Cache-Control", "max-age=60, stale-while-revalidate=30")
			_, _ = io.WriteString(w, `["ACME","GLOBEX"]`+"\n")
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":{"message":"no such method"}}`)
		}
	}))
	defer srv.Close()

	c, err := backend.New(backend.Config{URL: srv.URL + "/api"})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	resp, err := c.Call(context.Background(), "market.symbols", nil, "")
	fmt.Println(string(resp.Body), resp.Cache.TTL(), resp.Cache.StaleFor(), err)

	_, err = c.Call(context.Background(), "market.nope", nil, "")
	var e *backend.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.Status, e.Message)
	}
	// Output:
	// ["ACME","GLOBEX"] 1m0s 30s <nil>
	// not_found 404 no such method
}
