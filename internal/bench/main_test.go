package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run when a test leaves a goroutine behind, and runs
// the child side of TestOpenFileLimit when asked.
func TestMain(m *testing.M) {
	if runLimitedChild() {
		return
	}
	goleak.VerifyTestMain(m)
}
