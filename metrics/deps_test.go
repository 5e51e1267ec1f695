package metrics_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRootWithoutPrometheus checks that the wsgate package does not
// depend on Prometheus, so that embedding it does not build Prometheus in:
// only this package does.
func TestRootWithoutPrometheus(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs go list")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command(goTool, "list", "-deps", "github.com/wsgate/wsgate").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for dep := range strings.Lines(string(out)) {
		if strings.Contains(dep, "prometheus") {
			t.Errorf("github.com/wsgate/wsgate depends on %s", strings.TrimSpace(dep))
		}
	}
}
