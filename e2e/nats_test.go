package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// natsServerVersion is the nats-server that `make deps` installs.
const natsServerVersion = "v2.15.3"

// natsServerPath finds the nats-server binary: on PATH, or where go
// install puts it (GOBIN, else GOPATH/bin). It returns why not when it
// cannot.
func natsServerPath() (string, string) {
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p, ""
	}
	var dirs []string
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) > 0 && lines[0] != "" {
			dirs = append(dirs, lines[0])
		}
		if len(lines) > 1 {
			for _, gp := range filepath.SplitList(lines[1]) {
				dirs = append(dirs, filepath.Join(gp, "bin"))
			}
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, "nats-server")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, ""
		}
	}
	return "", "nats-server is not installed (make deps installs it: go install github.com/nats-io/nats-server/v2@" + natsServerVersion + ")"
}

// freePort returns a loopback port nobody listened on a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// process is a child process stopped with SIGTERM when the test ends.
type process struct {
	cmd    *exec.Cmd
	done   chan struct{} // closed when its output is drained and it has exited
	exited time.Time     // when Wait returned; read after done is closed
}

// start runs argv; lines of its stderr go to lines until the process
// ends.
func start(t *testing.T, lines chan<- string, argv ...string) *process {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	name := filepath.Base(argv[0])
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if lines != nil {
				select {
				case lines <- sc.Text():
				default: // nobody is waiting for it any more
				}
			}
		}
		cmd.Wait()
		p.exited = time.Now()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-p.done
			t.Errorf("%s did not stop on SIGTERM", name)
		}
	})
	return p
}

// needNATSServer returns the nats-server binary's path; without one it
// skips the test, or fails it under WSGATE_REQUIRE_PEERS=1.
func needNATSServer(t *testing.T) string {
	t.Helper()
	natsServer, missing := natsServerPath()
	if missing != "" {
		peerMissing(t, "nats-server", missing)
	}
	return natsServer
}

// buildWsgate builds cmd/wsgate into the test's temporary folder.
func buildWsgate(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wsgate")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/wsgate/wsgate/cmd/wsgate").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startNATSServer runs natsServer with JetStream on a free loopback port
// until the test ends and returns its nats:// URL once it listens.
func startNATSServer(t *testing.T, natsServer string) string {
	t.Helper()
	port := freePort(t)
	start(t, nil, natsServer, "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-js", "-sd", filepath.Join(t.TempDir(), "js"))
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return fmt.Sprintf("nats://127.0.0.1:%d", port)
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server does not listen on %d: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startNode starts wsgate (bin) with --nats natsURL and args (a --listen
// among them replaces the default 127.0.0.1:0), and returns
// the process and its address, read from its start-up log.
func startNode(t *testing.T, bin, natsURL string, args ...string) (*process, string) {
	t.Helper()
	lines := make(chan string, 64)
	argv := append([]string{bin, "--listen", "127.0.0.1:0", "--nats", natsURL, "--backend", "http://127.0.0.1:1"}, args...)
	p := start(t, lines, argv...)
	timeout := time.After(20 * time.Second)
	var seen []string
	for {
		select {
		case l := <-lines:
			if _, rest, ok := strings.Cut(l, `msg="wsgate listening" addr=`); ok {
				addr, _, _ := strings.Cut(rest, " ")
				return p, addr
			}
			seen = append(seen, l)
		case <-timeout:
			t.Fatalf("wsgate did not start; it logged:\n%s", strings.Join(seen, "\n"))
		}
	}
}

// TestNATSClusterProcesses runs a real nats-server and two wsgate
// processes joined through it with --nats: a publication made on one
// reaches a client of the other. It speaks to each node through
// gorilla/websocket, which connects where it is told: the Go client would
// choose the node itself.
func TestNATSClusterProcesses(t *testing.T) {
	t.Parallel()
	natsServer := needNATSServer(t)
	bin := buildWsgate(t)
	natsURL := startNATSServer(t, natsServer)
	_, a := startNode(t, bin, natsURL)
	_, b := startNode(t, bin, natsURL)

	dialWS := func(addr string) *websocket.Conn {
		t.Helper()
		c, _, err := websocket.DefaultDialer.DialContext(context.Background(), "ws://"+addr+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		return c
	}
	sub := dialWS(b)
	sub.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"sub":"across.processes"}`))
	if _, msg, err := sub.ReadMessage(); err != nil || !strings.Contains(string(msg), `"id":1,"result"`) {
		t.Fatalf("sub on B: %s %v", msg, err)
	}
	pub := dialWS(a)
	pub.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"pub":"across.processes","data":{"from":"A"}}`))
	if _, msg, err := pub.ReadMessage(); err != nil || !strings.HasPrefix(string(msg), `{"id":1,"result":{"seq":1,"epoch":"`) {
		t.Fatalf("pub on A: %s %v", msg, err)
	}
	_, msg, err := sub.ReadMessage()
	if err != nil || !strings.HasPrefix(string(msg), `{"ch":"across.processes","seq":1,"data":{"from":"A"},"epoch":"`) {
		t.Fatalf("B got %s %v, want A's publication", msg, err)
	}
}
