package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// usageHead is the start of wsgate --help: what is served, the
// subcommands, then the flags.
const usageHead = `Usage: wsgate [flags]              serve (with no flags: the demo on :8080)
       wsgate bench SUB [flags]    load-test a WebSocket server (wsgate bench --help)
       wsgate nodes URL…           time a cluster's nodes as a client does, and show its choice
       wsgate delayproxy [flags]   a TCP proxy that adds latency, to try many regions locally
       wsgate version              print the version (also --version)
       wsgate help [bench [SUB]]   this help, or a subcommand's

Served on one listener (--listen):
  GET  /ws                     WebSocket with the JSON envelope: call, sub, unsub, pub
  GET  /echo                   WebSocket that echoes every message (--echo=false: off)
  POST /api/publish            publish from a backend (with --api-key)
  POST /api/publish/batch      up to 1,000 publications in one request (with --api-key)
  POST /api/cache/invalidate   drop cached call results on every node (with --api-key)
  GET  /edge/ping              this node's id, region and connections, for latency probes
  GET  /edge/nodes             the cluster's live nodes: id, region, URL, connections, load
  GET  /metrics                Prometheus text format
  GET  /healthz, /readyz       liveness; readiness (503 while shutting down, or cut off from --nats)
  GET  /                       the demo page, or the files of --static DIR, also
                               under fingerprinted names (app.3f2a9c1b7e.js) cached
                               for ever; any other path answers 404

Every flag has an environment twin: --max-message-size is WSGATE_MAX_MESSAGE_SIZE.
A flag on the command line wins.

Flags:
`

// usageError is a mistake on the command line (an unknown flag, a value
// a flag cannot take, a stray argument): Report follows it with a
// pointer to the help that lists what is accepted.
type usageError struct {
	err  error
	help string // the command whose --help to run: "wsgate"
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// HelpCommand is the command whose --help lists what was mistyped.
func (e *usageError) HelpCommand() string { return e.help }

// flagError turns an error of FlagSet.Parse into a usageError that reads
// like wsgate's other errors: "wsgate: unknown flag --nope".
func flagError(err error) error {
	return &usageError{err: fmt.Errorf("wsgate: %w", flagErrorText(err)), help: "wsgate"}
}

// Report prints err, returned by Run, to w for a person: its message
// once, then for a mistake on the command line one line saying which
// --help lists what is accepted. It returns the exit status: 2 for such
// a mistake, 1 for any other error.
func Report(w io.Writer, err error) int {
	fmt.Fprintln(w, err)
	var u interface{ HelpCommand() string }
	if errors.As(err, &u) {
		fmt.Fprintf(w, "run %s --help for the flags\n", u.HelpCommand())
		return 2
	}
	return 1
}

// help is "wsgate help [bench [SUB]]": the help of wsgate or of a
// subcommand, on stdout.
func help(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 0:
		_, err := parseFlags([]string{"--help"}, getenv, stdout)
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	case args[0] == "bench":
		return runBench(ctx, append(args[1:], "--help"), stdout, stderr)
	case args[0] == "nodes" && len(args) == 1:
		return runNodes(ctx, []string{"--help"}, stdout)
	case args[0] == "delayproxy" && len(args) == 1:
		return runDelayProxy(ctx, []string{"--help"}, stdout, stderr, nil)
	case args[0] == "version" && len(args) == 1:
		fmt.Fprintln(stdout, "Usage: wsgate version\n\nPrints the version wsgate was built from, its revision and the Go release.")
		return nil
	}
	return &usageError{err: fmt.Errorf("wsgate: no help on %q: want wsgate help, wsgate help bench [SUB], wsgate help nodes, wsgate help delayproxy or wsgate help version", strings.Join(args, " ")), help: "wsgate"}
}
