package edge

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run when a test leaves a goroutine behind: each
// Registry with a Bus runs a heartbeat goroutine until Leave or Close.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
