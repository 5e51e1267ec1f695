package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/wsgate/wsgate/ws/wsflate"
)

// Main runs "wsgate bench" with args (the subcommand and its flags, not
// "bench" itself). The summary goes to stdout (one JSON object with
// --json), and so does the help asked for with --help; progress lines go
// to stderr. It returns nil after --help, and an error when the run could
// not be done or went wrong: a
// limit hit while connecting, a reply that failed verification, or any
// connection error during the run (the summary is printed first).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseArgs(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	t, err := resolveTarget(ctx, o.URLs, o.AllowRemote, o.SourceIPs)
	if err != nil {
		return err
	}
	if o.Deflate {
		// Threshold 1: every message worth compressing is sent compressed.
		if t.deflate, err = wsflate.New(wsflate.Options{Threshold: 1}); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
	}
	r := &runner{o: o, t: t, stderr: stderr, lat: newLatency()}
	if o.Quiet {
		r.stderr = io.Discard
	}
	var res *Result
	switch o.Cmd {
	case CmdConns:
		res, err = r.runConns(ctx)
	case CmdEcho:
		res, err = r.runEcho(ctx)
	case CmdCall, CmdPub:
		res, err = r.runCall(ctx)
	case CmdFanout:
		res, err = r.runFanout(ctx)
	case CmdFailover:
		res, err = r.runFailover(ctx)
	}
	if res != nil {
		if t.deflate != nil {
			res.Deflate = deflateResult(t.deflate.Stats())
		}
		var werr error
		if o.JSON {
			werr = res.writeJSON(stdout)
		} else {
			werr = res.writeText(stdout)
		}
		if err == nil {
			err = werr
		}
	}
	return err
}
