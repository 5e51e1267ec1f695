package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// scriptTimeout bounds one run of a peer script, all cases included.
const scriptTimeout = 3 * time.Minute

// requirePeersEnv names the variable that turns a missing peer from a
// skip into a failure; `make test` sets it to 1.
const requirePeersEnv = "WSGATE_REQUIRE_PEERS"

// peerMissing ends a test that needs peer, which cannot run here for
// the reason missing: a failure under WSGATE_REQUIRE_PEERS=1, else a skip.
func peerMissing(t *testing.T, peer, missing string) {
	t.Helper()
	if os.Getenv(requirePeersEnv) == "1" {
		t.Fatalf("%s: %s, and %s=1", peer, missing, requirePeersEnv)
	}
	t.Skipf("%s: %s; set %s=1 to fail instead", peer, missing, requirePeersEnv)
}

// scriptPeer is a client in another language, run as a child process.
type scriptPeer struct {
	name string
	// command returns the command line (the server's URL is appended), or
	// why the peer cannot run here.
	command func() (argv []string, missing string)
}

func scriptPeers() []scriptPeer {
	return []scriptPeer{
		{name: "node-ws", command: nodeCommand},
		{name: "python-websockets", command: pythonCommand},
	}
}

func nodeCommand() ([]string, string) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, "node is not installed (make deps installs it)"
	}
	if _, err := os.Stat("node/node_modules/ws/package.json"); err != nil {
		return nil, "the ws module is not installed in e2e/node (make deps runs npm ci there)"
	}
	return []string{node, "node/interop.mjs"}, ""
}

// pythonPath is Debian's interpreter, the one python3-websockets installs
// into; a python3 earlier on PATH (pyenv, a venv) does not see it.
const pythonPath = "/usr/bin/python3"

func pythonCommand() ([]string, string) {
	if _, err := os.Stat(pythonPath); err != nil {
		return nil, pythonPath + " is missing"
	}
	if err := exec.Command(pythonPath, "-c", "import websockets").Run(); err != nil {
		return nil, "python3-websockets is not installed for " + pythonPath + " (make deps installs it)"
	}
	return []string{pythonPath, "python/interop.py"}, ""
}

// scriptLine is one line a peer script prints: a header naming the peer
// and its version, or the result of one case.
type scriptLine struct {
	Peer    string `json:"peer"`
	Version string `json:"version"`
	Case    string `json:"case"`
	OK      *bool  `json:"ok"`
	Detail  string `json:"detail"`
	MS      int64  `json:"ms"`
}

// parseLine decodes and checks one line of a script's output.
func parseLine(b []byte) (scriptLine, error) {
	var l scriptLine
	if err := json.Unmarshal(b, &l); err != nil {
		return scriptLine{}, fmt.Errorf("not a JSON object: %w", err)
	}
	switch {
	case l.Peer != "" && l.Case == "":
		return l, nil
	case l.Case != "" && l.Peer == "" && l.OK != nil:
		return l, nil
	}
	return scriptLine{}, errors.New(`want {"peer","version"} or {"case","ok","detail"}`)
}

// runScript runs argv with the server's URL and turns each case the
// script reports into a subtest. A case the script does not report fails.
// runScript runs a peer script against base and reports each of the
// interop cases as a subtest.
func runScript(t *testing.T, argv []string, base string) {
	var names []string
	for _, c := range interopCases() {
		names = append(names, c.name)
	}
	runScriptCases(t, argv, base, names)
}

// runScriptCases runs a peer script against base; the script must report
// exactly the cases named, each once.
func runScriptCases(t *testing.T, argv []string, base string, cases []string) {
	runReporter(t, append(argv, base), nil, cases)
}

// runReporter runs argv, a script that prints one JSON line per case it
// ran, and turns each line into a subtest; it must report exactly the
// cases named, each once. other, when not nil, is shown every line first
// and reports whether it took the line, which is then not a case.
func runReporter(t *testing.T, argv []string, other func(line []byte) bool, cases []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), scriptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, name := range cases {
		want[name] = true
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if other != nil && other(sc.Bytes()) {
			continue
		}
		l, err := parseLine(sc.Bytes())
		switch {
		case err != nil:
			t.Errorf("script printed %q: %v", sc.Bytes(), err)
			continue
		case l.Peer != "":
			t.Logf("%s: %s", l.Peer, l.Version)
			continue
		case !want[l.Case]:
			t.Errorf("script reported an unknown case %q", l.Case)
			continue
		case seen[l.Case]:
			t.Errorf("script reported case %q twice", l.Case)
			continue
		}
		seen[l.Case] = true
		t.Run(l.Case, func(t *testing.T) {
			if !*l.OK {
				t.Fatalf("%s (%d ms)", l.Detail, l.MS)
			}
			t.Logf("%s (%d ms)", l.Detail, l.MS)
		})
	}
	if err := sc.Err(); err != nil {
		t.Errorf("reading the script's output: %v", err)
	}
	werr := cmd.Wait()
	for _, name := range cases {
		if !seen[name] {
			t.Run(name, func(t *testing.T) {
				t.Fatalf("the script reported no result for this case (it exited: %v)", werr)
			})
		}
	}
	if werr != nil && !t.Failed() {
		t.Errorf("script exited with %v although every case passed", werr)
	}
	if t.Failed() && stderr.Len() > 0 {
		t.Logf("script stderr:\n%s", stderr.Bytes())
	}
}

func TestParseLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		ok   bool
	}{
		{`{"peer":"node-ws","version":"ws 8.23.0"}`, true},
		{`{"case":"close/1000","ok":true,"detail":"server echoed 1000","ms":3}`, true},
		{`{"case":"close/1000","ok":false,"detail":"timeout"}`, true},
		{`{"case":"close/1000","detail":"no ok field"}`, false},
		{`{"ok":true}`, false},
		{`{"peer":"x","case":"y","ok":true}`, false},
		{`{}`, false},
		{`Debugger attached.`, false},
		{``, false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			t.Parallel()
			if _, err := parseLine([]byte(tt.line)); (err == nil) != tt.ok {
				t.Errorf("parseLine(%q) error %v, want ok %v", tt.line, err, tt.ok)
			}
		})
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add([]byte(`{"peer":"node-ws","version":"ws 8.23.0"}`))
	f.Add([]byte(`{"case":"echo/text/0","ok":true,"detail":"0 bytes echoed","ms":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := parseLine(b)
		if err != nil {
			return
		}
		if (l.Peer == "") == (l.Case == "") || (l.Case != "" && l.OK == nil) {
			t.Fatalf("parseLine(%q) accepted %+v", b, l)
		}
	})
}
