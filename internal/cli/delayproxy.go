package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/wsgate/wsgate/internal/delayproxy"
)

// delayProxyUsage is wsgate delayproxy --help's head; the flags follow.
const delayProxyUsage = `Usage: wsgate delayproxy --listen ADDR --to ADDR --delay DURATION

Forwards TCP connections from --listen to --to, holding every chunk of
bytes --delay in each direction, so a node on this machine looks as far
away as one in another region (a round trip costs twice --delay more).
For trying nearest-node selection and failover locally; it runs until
interrupted.

Flags:
`

// runDelayProxy is "wsgate delayproxy …". ready, when not nil, receives
// the listening address.
func runDelayProxy(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("wsgate delayproxy", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	listen := fs.String("listen", "127.0.0.1:9080", "address to accept connections on")
	to := fs.String("to", "", "address to forward them to, host:port (required)")
	delay := fs.Duration("delay", 40*time.Millisecond, "delay of every chunk, each way")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, delayProxyUsage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return nil
	} else if err != nil {
		return &usageError{err: fmt.Errorf("wsgate delayproxy: %w", flagErrorText(err)), help: "wsgate delayproxy"}
	}
	if *to == "" || fs.NArg() > 0 || *delay < 0 {
		return &usageError{err: errors.New("wsgate delayproxy: want --to host:port, a --delay of 0 or more, and no other argument"), help: "wsgate delayproxy"}
	}
	p, err := delayproxy.Listen(*listen, *to, *delay)
	if err != nil {
		return fmt.Errorf("wsgate delayproxy: %w", err)
	}
	defer p.Close()
	fmt.Fprintf(stderr, "wsgate delayproxy: %s → %s, %v each way\n", p.Addr(), *to, *delay)
	if ready != nil {
		ready <- p.Addr()
	}
	<-ctx.Done()
	return nil
}
