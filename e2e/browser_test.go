package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// chromiumPath is Debian's Chromium; $CHROMIUM overrides it.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// browserCases are the cases node/browser.mjs reports: what a browser's
// WebSocket can do (it cannot ping, fragment or send 1001).
func browserCases() []string {
	cases := []string{"deflate/negotiated"}
	for _, n := range []int{0, 1, 255, 256, 257, 4096, 65536, 1 << 20} {
		cases = append(cases, fmt.Sprintf("echo/text/%d", n), fmt.Sprintf("echo/binary/%d", n))
	}
	return append(cases, "close/3000", "ws/subprotocol", "ws/call", "ws/sub-publish")
}

// TestBrowser runs the browser cases in headless Chromium, which offers
// permessage-deflate as every browser does, on each engine.
func TestBrowser(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "node is not installed (make deps installs it)"
	case fileMissing("node/node_modules/playwright-core/package.json"):
		missing = "playwright-core is not installed in e2e/node (make deps runs npm ci there)"
	case fileMissing(chromiumPath()):
		missing = chromiumPath() + " is missing (make deps installs Debian's chromium)"
	}
	if missing != "" {
		if os.Getenv(requirePeersEnv) == "1" {
			t.Fatalf("chromium: %s, and %s=1", missing, requirePeersEnv)
		}
		t.Skipf("chromium: %s; set %s=1 to fail instead", missing, requirePeersEnv)
	}
	for _, eng := range engines {
		t.Run(eng.String(), func(t *testing.T) {
			t.Parallel()
			if !eng.Supported() {
				t.Skipf("engine %v is not supported on this system", eng)
			}
			runScriptCases(t, []string{node, "node/browser.mjs"}, startServer(t, eng), browserCases())
		})
	}
}

func fileMissing(path string) bool {
	_, err := os.Stat(path)
	return err != nil
}
