package e2e

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run when a test leaves a goroutine behind: the
// in-process server and the Go clients must stop everything they start.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
