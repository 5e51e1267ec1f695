package demo_test

import (
	"context"
	"log"
	"net/http"
	"os/signal"
	"sync"
	"syscall"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/internal/demo"
)

// The demo is wired into a Server like any backend written against the
// public API: register its methods, and run its ticker for as long as the
// server serves. The ticker's goroutine is owned here: the signal that stops
// the HTTP server stops it too, and it is waited for.
func Example() {
	s, err := wsgate.New(wsgate.Config{})
	if err != nil {
		log.Fatal(err)
	}
	demo.Register(s)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() { demo.RunTicks(ctx, s, 0) })

	srv := &http.Server{Addr: ":8080", Handler: s.Handler()}
	context.AfterFunc(ctx, func() { srv.Shutdown(context.Background()) })
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Print(err)
	}
	s.Shutdown(context.Background())
	wg.Wait()
}
