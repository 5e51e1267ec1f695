package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/wsgate/wsgate/internal/bench"
)

// runBench is "wsgate bench …": the load generator, which needs none of
// the server's flags. args follow the word "bench". Its errors, "bench:
// …", come back as "wsgate bench: …".
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := bench.Main(ctx, args, stdout, stderr); err != nil {
		return fmt.Errorf("wsgate %w", err)
	}
	return nil
}
