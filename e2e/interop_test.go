package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
)

// caseTimeout bounds one case of a Go client.
const caseTimeout = 30 * time.Second

// TestInterop runs the interop matrix on each engine: every client
// against its own server, the clients in parallel. Within one client the
// cases run one after another, so the 8 MiB echoes do not pile up on a
// small machine.
func TestInterop(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.String(), func(t *testing.T) {
			t.Parallel()
			if !eng.Supported() {
				t.Skipf("engine %v is not supported on this system", eng)
			}
			interop(t, eng)
		})
	}
}

func interop(t *testing.T, eng wsgate.EngineKind) {
	for _, cl := range goClients() {
		t.Run(cl.name, func(t *testing.T) {
			t.Parallel()
			base := startServer(t, eng)
			for _, c := range interopCases() {
				t.Run(c.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(t.Context(), caseTimeout)
					defer cancel()
					detail, err := c.run(ctx, cl, base)
					if err != nil {
						t.Fatal(err)
					}
					t.Log(detail)
				})
			}
		})
	}
	for _, p := range scriptPeers() {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			argv, missing := p.command()
			if missing != "" {
				peerMissing(t, p.name, missing)
			}
			runScript(t, argv, startServer(t, eng))
		})
	}
}
