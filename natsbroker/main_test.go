package natsbroker

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run when a test leaves a goroutine behind: every
// Broker's goroutines must end with Close.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
