package cli

import (
	"context"
	"io"

	"github.com/wsgate/wsgate/internal/bench"
)

// runBench is "wsgate bench …": the load generator, which needs none of
// the server's flags. args follow the word "bench".
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return bench.Main(ctx, args, stdout, stderr)
}
