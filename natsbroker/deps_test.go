package natsbroker

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyImporterOfNATS checks that no package of wsgate but this one
// imports the NATS client or server (tests may, to run a server), and
// that the wsgate package does not depend on them, so that embedding
// wsgate does not build NATS in.
func TestOnlyImporterOfNATS(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs go list")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command(goTool, "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "github.com/wsgate/wsgate/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for line := range strings.Lines(string(out)) {
		pkg, imports, _ := strings.Cut(strings.TrimSpace(line), " ")
		if pkg == "github.com/wsgate/wsgate/natsbroker" {
			continue
		}
		for imp := range strings.FieldsSeq(imports) {
			if strings.HasPrefix(imp, "github.com/nats-io/") {
				t.Errorf("%s imports %s: only natsbroker may", pkg, imp)
			}
		}
	}
	out, err = exec.Command(goTool, "list", "-deps", "github.com/wsgate/wsgate").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for dep := range strings.Lines(string(out)) {
		if strings.Contains(dep, "nats-io") {
			t.Errorf("github.com/wsgate/wsgate depends on %s", strings.TrimSpace(dep))
		}
	}
}
