package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/internal/demo"
	"github.com/wsgate/wsgate/web"
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

// needChromium returns the node binary that drives Chromium through
// e2e/node's playwright-core; when node, playwright-core or Chromium is
// missing it skips the test, or fails it under WSGATE_REQUIRE_PEERS=1.
func needChromium(t *testing.T) string {
	t.Helper()
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
		peerMissing(t, "chromium", missing)
	}
	return node
}

// TestBrowser runs the browser cases in headless Chromium, which offers
// permessage-deflate as every browser does, on each engine.
func TestBrowser(t *testing.T) {
	t.Parallel()
	node := needChromium(t)
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

// screenshotDirEnv names the folder TestDemoPage writes its screenshots
// to; by default wsgate-screenshots in the system's temporary folder,
// which outlives the test (t.TempDir does not).
const screenshotDirEnv = "WSGATE_SCREENSHOT_DIR"

func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(screenshotDirEnv)
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "wsgate-screenshots")
	}
	dir, err := filepath.Abs(dir)
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDemoPage loads the demo page in headless Chromium (node/demo.mjs)
// and checks what it shows: from one node with the demo backend (it
// connects, negotiates permessage-deflate, draws ticks for every symbol
// and a history, times a history computed then cached, fills the server
// panel, with no console error); from a node whose --backend has none of
// the demo's methods (it says so, and still shows the connection); and
// from two nodes on NATS, where the node the page chose is killed and the
// page shows its move to the other with ticks going on. The subtests run
// one at a time: each runs a browser. Screenshots go to
// $WSGATE_SCREENSHOT_DIR.
func TestDemoPage(t *testing.T) {
	t.Parallel()
	node := needChromium(t)

	t.Run("one-node", func(t *testing.T) {
		runDemoPage(t, node, "one", startDemoServer(t, ""), nil,
			"page/connected", "page/deflate", "page/ticks", "page/history", "page/latency", "page/stats", "page/screenshot", "page/no-console-error")
	})

	t.Run("no-demo-backend", func(t *testing.T) {
		backend := httptest.NewServer(http.NotFoundHandler()) // a backend with no method at all
		t.Cleanup(backend.Close)
		runDemoPage(t, node, "nodemo", startDemoServer(t, backend.URL), nil,
			"page/notice", "page/connection-panel", "page/screenshot", "page/no-console-error")
	})

	t.Run("failover", func(t *testing.T) {
		natsServer := needNATSServer(t)
		bin := buildWsgate(t)
		natsURL := startNATSServer(t, natsServer)
		nodes := map[string]*process{}
		var urls []string
		for _, id := range []string{"n1", "n2"} {
			addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
			nodes[id], _ = startNode(t, bin, natsURL, "--listen", addr, "--node-id", id, "--region", "local",
				"--public-url", "http://"+addr, "--backend", "") // "": the built-in demo backend
			urls = append(urls, "http://"+addr)
		}
		// The page asks the node that served it for the others: wait until
		// it lists both.
		eventually(t, "the first node listing both", func() bool {
			res, err := http.Get(urls[0] + "/edge/nodes")
			if err != nil {
				return false
			}
			defer res.Body.Close()
			var list []struct{ Node string }
			return json.NewDecoder(res.Body).Decode(&list) == nil && len(list) == 2
		})
		runDemoPage(t, node, "failover", urls[0], func(chosen string) {
			p, ok := nodes[chosen]
			if !ok {
				t.Errorf("the page chose %q, not a node of the test", chosen)
				return
			}
			t.Logf("kill -9 %s, the node the page chose", chosen)
			p.cmd.Process.Signal(syscall.SIGKILL)
		}, "page/connected", "page/ticks", "page/moved", "page/ticks-after-move", "page/screenshot", "page/no-exception")
	})
}

// startDemoServer serves the demo page, wsgate.js and /ws on a loopback
// port for the rest of the test, as the wsgate command does: with the
// demo backend and its ticks, or with backend as --backend. It returns
// the base URL, http://127.0.0.1:PORT.
func startDemoServer(t *testing.T, backend string) string {
	t.Helper()
	srv, err := wsgate.New(wsgate.Config{NodeID: "eu1", Region: "eu-west", Backend: backend, Files: web.Handler()})
	if err != nil {
		t.Fatalf("wsgate.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if backend == "" {
		demo.Register(srv)
		wg.Go(func() { demo.RunTicks(ctx, srv, 0) })
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		ts.Close()
	})
	return ts.URL
}

// runDemoPage runs node/demo.mjs in mode against base and turns each case
// it reports into a subtest; it must report exactly cases. onChosen, when
// not nil, is called with the node the page chose when the script names
// it ({"chosen":…}, in failover mode), before the script goes on.
func runDemoPage(t *testing.T, node, mode, base string, onChosen func(node string), cases ...string) {
	t.Helper()
	chosen := func(line []byte) bool {
		var c struct{ Chosen *string }
		if json.Unmarshal(line, &c) != nil || c.Chosen == nil {
			return false
		}
		if onChosen == nil {
			t.Errorf("the script named a node (%q) in mode %s", *c.Chosen, mode)
		} else {
			onChosen(*c.Chosen)
		}
		return true
	}
	runReporter(t, []string{node, "node/demo.mjs", mode, base, screenshotDir(t)}, chosen, cases)
}
