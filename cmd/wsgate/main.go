// Command wsgate runs the wsgate WebSocket server. With no flags it serves
// the demo on :8080: /ws with the built-in demo backend, /echo, and the
// demo page. "wsgate --help" lists the flags; "wsgate version" prints the
// version.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/wsgate/wsgate/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "wsgate:", err)
		os.Exit(1)
	}
}
