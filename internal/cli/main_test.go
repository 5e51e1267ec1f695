package cli

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run when a test leaves a goroutine behind: Run starts
// the HTTP server, the demo ticker and the shutdown.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
