// Command wsgate runs the wsgate WebSocket server. With no flags it serves
// the demo on :8080: /ws with the built-in demo backend, /echo, and the
// demo page. "wsgate --help" lists what is served, the subcommands
// ("wsgate bench", "wsgate version") and the flags.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/wsgate/wsgate/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil); err != nil {
		stop()
		os.Exit(cli.Report(os.Stderr, err))
	}
}
