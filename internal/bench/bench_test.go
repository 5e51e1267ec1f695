package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/metrics"
	"github.com/wsgate/wsgate/ws"
)

// startWsgate runs an in-process wsgate server with a "bench.add"
// method and "bench.cached", cached for an hour, and returns its ws://
// base URL.
func startWsgate(t *testing.T, apiKey string) string {
	t.Helper()
	srv, err := wsgate.New(wsgate.Config{APIKey: apiKey, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv.Handle("bench.add", func(_ context.Context, args json.RawMessage) (any, error) {
		var a struct{ X, Y int }
		if err := json.Unmarshal(args, &a); err != nil {
			return nil, wsgate.Errorf(wsgate.CodeBadRequest, "args: %v", err)
		}
		return a.X + a.Y, nil
	})
	srv.Handle("bench.cached", func(context.Context, json.RawMessage) (any, error) {
		return json.RawMessage(`{"ok":true}`), nil
	}, wsgate.CacheFor(time.Hour))
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mux.Handle("/metrics", metrics.Handler(srv)) // the call benchmark reads the cache counters
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		ts.Close()
	})
	return "ws" + strings.TrimPrefix(ts.URL, "http")
}

// runJSON runs Main with --json --quiet and a short window and returns
// the decoded Result and Main's error.
func runJSON(t *testing.T, args ...string) (*Result, error) {
	t.Helper()
	args = append(args, "--json", "--quiet", "--duration", "400ms", "--warmup", "100ms")
	var out, errOut bytes.Buffer
	err := Main(context.Background(), args, &out, &errOut)
	if out.Len() == 0 {
		return nil, err
	}
	var res Result
	if jerr := json.Unmarshal(out.Bytes(), &res); jerr != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", jerr, out.String())
	}
	if n := bytes.Count(bytes.TrimSpace(out.Bytes()), []byte("\n")); n != 0 {
		t.Fatalf("--json printed %d lines", n+1)
	}
	return &res, err
}

func TestEchoAgainstWsgate(t *testing.T) {
	t.Parallel()
	base := startWsgate(t, "")
	tests := []struct {
		name string
		args []string
	}{
		{"binary closed loop", []string{"--size", "64"}},
		{"text pipelined", []string{"--size", "1024", "--text", "--inflight", "8"}},
		{"empty payloads", []string{"--size", "0", "--inflight", "3"}},
		{"large payloads", []string{"--size", "70000", "--inflight", "2"}},
		{"text compressed", []string{"--size", "1024", "--text", "--inflight", "4", "--deflate"}},
		{"binary compressed", []string{"--size", "70000", "--deflate"}},
		{"json compressed", []string{"--size", "4096", "--payload", "json", "--inflight", "8", "--deflate"}},
		{"json plain", []string{"--size", "300", "--payload", "json", "--inflight", "2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"echo", "--url", base + "/echo", "--conns", "4", "--server-pid", itoa(os.Getpid())}, tt.args...)
			res, err := runJSON(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			if res.Storm.Opened != 4 || res.Msgs == 0 || res.Verified < res.Msgs || res.Mismatched != 0 || res.Errors != nil {
				t.Fatalf("result %+v", res)
			}
			if res.Latency == nil || res.Latency.P50 <= 0 || res.Latency.P99 < res.Latency.P50 {
				t.Fatalf("latency %+v", res.Latency)
			}
			if res.Server == nil || res.Server.RSSBytes == 0 || res.MsgsPerS <= 0 {
				t.Fatalf("server %+v", res.Server)
			}
			if slices.Contains(tt.args, "json") && (res.Payload != "json" || !res.Text) {
				t.Fatalf("payload %q text %v, want json sent as text", res.Payload, res.Text)
			}
			if d := res.Deflate; slices.Contains(tt.args, "--deflate") != (d != nil) {
				t.Fatalf("deflate %+v", d)
			} else if d != nil && slices.Contains(tt.args, "json") && (d.Sent < uint64(res.Msgs) || d.Received < uint64(res.Msgs) || d.Ratio <= 1) {
				t.Fatalf("deflate %+v for %d messages: want every message compressed both ways", d, res.Msgs)
			}
		})
	}
}

// TestEchoWriteEach runs alone (not in parallel), so that its load, a
// system call per message, does not slow the parallel runs down.
func TestEchoWriteEach(t *testing.T) {
	base := startWsgate(t, "")
	for _, cmd := range [][]string{
		{"echo", "--url", base + "/echo", "--size", "64"},
		{"call", "--url", base + "/ws", "--method", "bench.cached"},
	} {
		res, err := runJSON(t, append(cmd, "--conns", "2", "--inflight", "8", "--write-each")...)
		if err != nil {
			t.Fatal(err)
		}
		if !res.WriteEach || res.Msgs == 0 || res.Errors != nil {
			t.Fatalf("%s: result %+v", cmd[0], res)
		}
		if cmd[0] == "echo" && (res.Verified < res.Msgs || res.Mismatched != 0) {
			t.Fatalf("echo: verified %d, mismatched %d for %d messages", res.Verified, res.Mismatched, res.Msgs)
		}
	}
}

// badEcho serves WebSocket connections with echo, a server that answers
// wrongly, and returns its ws:// URL.
func badEcho(t *testing.T, echo func(c *websocket.Conn)) string {
	t.Helper()
	up := websocket.Upgrader{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		echo(c)
	}))
	t.Cleanup(ts.Close)
	return "ws" + strings.TrimPrefix(ts.URL, "http")
}

// corruptingEcho echoes every message but flips a byte of every third.
func corruptingEcho(t *testing.T) string {
	return badEcho(t, func(c *websocket.Conn) {
		for i := 0; ; i++ {
			op, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			if i%3 == 2 && len(b) > 0 {
				b[len(b)/2] ^= 0x20
			}
			if c.WriteMessage(op, b) != nil {
				return
			}
		}
	})
}

func TestEchoDetectsCorruption(t *testing.T) {
	t.Parallel()
	url := corruptingEcho(t)
	for _, payload := range []string{"binary", "json"} {
		t.Run(payload, func(t *testing.T) {
			t.Parallel()
			res, err := runJSON(t, "echo", "--url", url, "--conns", "2", "--size", "100", "--inflight", "4", "--payload", payload)
			if !errors.Is(err, ErrVerify) {
				t.Fatalf("err = %v, want ErrVerify", err)
			}
			if res == nil || res.Mismatched == 0 || res.Verified == 0 {
				t.Fatalf("result %+v", res)
			}
			// About one reply in three is corrupted.
			if ratio := float64(res.Mismatched) / float64(res.Mismatched+res.Verified); ratio < 0.2 || ratio > 0.45 {
				t.Errorf("mismatch ratio %.2f, want about 1/3", ratio)
			}
			if !strings.Contains(err.Error(), "differed from the message sent") {
				t.Errorf("error text: %v", err)
			}
		})
	}
}

// TestEchoDetectsReordering runs JSON payloads against a server that
// answers each pair of messages in the wrong order: every reply is a
// message that was sent, but in another position.
func TestEchoDetectsReordering(t *testing.T) {
	t.Parallel()
	url := badEcho(t, func(c *websocket.Conn) {
		for {
			var msgs [2][]byte
			var op int
			var err error
			for i := range msgs {
				if op, msgs[i], err = c.ReadMessage(); err != nil {
					return
				}
			}
			if c.WriteMessage(op, msgs[1]) != nil || c.WriteMessage(op, msgs[0]) != nil {
				return
			}
		}
	})
	res, err := runJSON(t, "echo", "--url", url, "--conns", "2", "--size", "4096", "--inflight", "4", "--payload", "json")
	if !errors.Is(err, ErrVerify) {
		t.Fatalf("err = %v, want ErrVerify", err)
	}
	if res == nil || res.Mismatched == 0 || res.Verified != 0 {
		t.Fatalf("result %+v, want every reply mismatched", res)
	}
}

func TestConnsAgainstWsgate(t *testing.T) {
	t.Parallel()
	base := startWsgate(t, "")
	res, err := runJSON(t, "conns", "--url", base+"/echo", "--conns", "300", "--steps", "50,200", "--server-pid", itoa(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	if res.Storm.Opened != 300 || res.Storm.PerS <= 0 || res.Lost != 0 || res.Storm.HandshakeL == nil {
		t.Fatalf("result %+v", res)
	}
	if s := res.Server; s == nil || s.RSSBeforeBytes == 0 || s.RSSBytes == 0 {
		t.Fatalf("server %+v", res.Server)
	}
	if len(res.Steps) != 3 {
		t.Fatalf("steps %+v, want 50, 200, 300", res.Steps)
	}
	for i, want := range []int{50, 200, 300} {
		if st := res.Steps[i]; st.Conns != want || st.HandshakesPerS <= 0 || st.RSSBytes == 0 {
			t.Errorf("step %d: %+v", i, st)
		}
	}
}

func TestCallAgainstWsgate(t *testing.T) {
	t.Parallel()
	base := startWsgate(t, "")
	tests := []struct {
		name     string
		args     []string
		wantCode string
	}{
		{"ok", []string{"--method", "bench.add", "--args", `{"x":1,"y":2}`, "--inflight", "4"}, "ok"},
		{"not found", []string{"--method", "no.such"}, "not_found"},
		{"bad request", []string{"--method", "bench.add", "--args", `"x"`}, "bad_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := runJSON(t, append([]string{"call", "--url", base + "/ws", "--conns", "3"}, tt.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			if res.Msgs == 0 || len(res.Codes) != 1 || res.Codes[tt.wantCode] < res.Msgs {
				t.Fatalf("msgs %d, codes %v; want all %s", res.Msgs, res.Codes, tt.wantCode)
			}
		})
	}
}

// TestPubAgainstWsgate publishes over 100 channels: every pub is
// acknowledged with a result, and a pub to a name that is not a channel
// is answered bad_request, each counted by code.
func TestPubAgainstWsgate(t *testing.T) {
	t.Parallel()
	base := startWsgate(t, "")
	tests := []struct {
		name, channel, wantCode string
	}{
		{"ok", "bench", "ok"},
		{"bad name", "no spaces", "bad_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := runJSON(t, "pub", "--url", base+"/ws", "--conns", "3", "--channels", "100", "--channel", tt.channel, "--size", "200")
			if err != nil {
				t.Fatal(err)
			}
			// A connection may publish faster than the server's
			// 10,000 messages a second: those are rate_limited.
			others := res.Msgs - res.Codes[tt.wantCode] - res.Codes["rate_limited"]
			if res.Msgs == 0 || res.Codes[tt.wantCode] == 0 || others > 0 || res.Channels != 100 {
				t.Fatalf("msgs %d, codes %v, channels %d; want %s (or rate_limited) over 100 channels", res.Msgs, res.Codes, res.Channels, tt.wantCode)
			}
		})
	}
}

func TestFanoutAgainstWsgate(t *testing.T) {
	t.Parallel()
	base := startWsgate(t, "secret")
	tests := []struct {
		name string
		args []string
	}{
		{"pub on ws", nil},
		{"api publish", []string{"--api-key", "secret", "--size", "100"}},
		{"pub on ws compressed", []string{"--size", "2000", "--deflate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"fanout", "--url", base + "/ws", "--conns", "5", "--rate", "200", "--channel", "fan." + strings.ReplaceAll(tt.name, " ", "")}, tt.args...)
			res, err := runJSON(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			if res.Published == 0 || res.Msgs == 0 || res.Gaps != 0 || res.Codes["ok"] == 0 {
				t.Fatalf("result %+v", res)
			}
			// No subscriber gets more than was published in the whole
			// run, nor misses any (Gaps); which deliveries fall inside the
			// window depends on the latency, so only bounds are checked.
			// The server hands a publication to its subscribers before it
			// acknowledges it, and the publisher stops reading acknowledgements when
			// the run ends: the last few may reach the subscribers
			// without their acknowledgement being counted.
			const unacked = 4
			if res.Msgs > 5*(res.Codes["ok"]+unacked) || res.Msgs < res.Published {
				t.Errorf("deliveries %d for %d publications in the window, %d in all", res.Msgs, res.Published, res.Codes["ok"])
			}
		})
	}
}

// TestDeflateDeclined checks that --deflate fails against a server that
// does not accept permessage-deflate.
func TestDeflateDeclined(t *testing.T) {
	t.Parallel()
	_, err := runJSON(t, "echo", "--url", corruptingEcho(t), "--conns", "1", "--deflate")
	if err == nil || !strings.Contains(err.Error(), "deflate") {
		t.Fatalf("err = %v, want the server's refusal of permessage-deflate", err)
	}
}

func TestFanoutWrongAPIKey(t *testing.T) {
	t.Parallel()
	base := startWsgate(t, "secret")
	res, err := runJSON(t, "fanout", "--url", base+"/ws", "--conns", "2", "--api-key", "wrong")
	if err == nil || res == nil || res.Codes["forbidden"] == 0 {
		t.Fatalf("err = %v, result %+v; want a failure with forbidden", err, res)
	}
}

func TestRefusesRemoteTargets(t *testing.T) {
	t.Parallel()
	err := Main(context.Background(), []string{"echo", "--url", "ws://192.0.2.1:80/echo", "--quiet"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--allow-remote") {
		t.Fatalf("err = %v", err)
	}
}

func TestHandshakeRejected(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(ts.Close)
	_, err := runJSON(t, "echo", "--url", "ws"+strings.TrimPrefix(ts.URL, "http")+"/echo", "--conns", "3")
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("err = %v, want the server's 404", err)
	}
}

func TestTextSummary(t *testing.T) {
	t.Parallel()
	base := startWsgate(t, "")
	var out bytes.Buffer
	var progress bytes.Buffer
	err := Main(context.Background(), []string{"echo", "--url", base + "/echo", "--conns", "2", "--duration", "1100ms", "--warmup", "0s", "--server-pid", itoa(os.Getpid())}, &out, &progress)
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"messages", "p50", "p99", "p99.9", "verified", "µs/msg", "msgs per CPU-second", "errors      none"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	// Each figure sits under the heading of its window: the window's
	// figures first, then the whole run's counts.
	measured, whole := strings.Index(s, "\n  measured "), strings.Index(s, "\n  whole run ")
	if measured < 0 || whole < measured || !strings.Contains(s, "s of warm-up:\n") || !strings.Contains(s, "s, warm-up included:\n") {
		t.Fatalf("summary lacks its two headings in order:\n%s", s)
	}
	for _, f := range []string{"messages", "latency", "server", "client CPU"} {
		if i := strings.Index(s, "    "+f); i < measured || i > whole {
			t.Errorf("%q is not under the measured window's heading:\n%s", f, s)
		}
	}
	for _, f := range []string{"verified", "errors"} {
		if i := strings.Index(s, "    "+f); i < whole {
			t.Errorf("%q is not under the whole run's heading:\n%s", f, s)
		}
	}
	if !strings.Contains(progress.String(), "msgs/s") {
		t.Errorf("no progress line on stderr: %q", progress.String())
	}
}

// limitChildEnv names the server URL for the child of TestOpenFileLimit;
// limitChildCmdEnv, when "failover", makes it run failover, not conns.
const (
	limitChildEnv    = "BENCH_TEST_LIMIT_CHILD_URL"
	limitChildCmdEnv = "BENCH_TEST_LIMIT_CHILD_CMD"
)

// runLimitedChild is the child side of TestOpenFileLimit: with a low
// open-file limit it opens more connections than the limit allows. It
// reports whether it ran (the process must then exit).
func runLimitedChild() bool {
	url := os.Getenv(limitChildEnv)
	if url == "" {
		return false
	}
	rl := syscall.Rlimit{Cur: 64, Max: 64}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		os.Stderr.WriteString("setrlimit: " + err.Error())
		os.Exit(2)
	}
	args := []string{"conns", "--url", url, "--conns", "500", "--quiet", "--duration", "100ms", "--warmup", "0s"}
	if os.Getenv(limitChildCmdEnv) == "failover" {
		args = []string{"failover", "--url", strings.Replace(strings.TrimSuffix(url, "/echo"), "ws://", "http://", 1), "--conns", "500", "--quiet", "--duration", "100ms", "--warmup", "0s"}
	}
	err := Main(context.Background(), args, io.Discard, io.Discard)
	if err != nil {
		os.Stderr.WriteString(err.Error())
	}
	if errors.Is(err, ErrOpenFileLimit) {
		os.Exit(3)
	}
	os.Exit(1)
	return true
}

func TestOpenFileLimit(t *testing.T) {
	t.Parallel()
	for _, sub := range []string{"conns", "failover"} {
		t.Run(sub, func(t *testing.T) {
			t.Parallel()
			openFileLimit(t, sub)
		})
	}
}

// openFileLimit runs subcommand sub in a child process whose open-file
// limit is 64 and checks that it says so.
func openFileLimit(t *testing.T, sub string) {
	base := startWsgate(t, "")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), limitChildEnv+"="+base+"/echo", limitChildCmdEnv+"="+sub)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("child: %v, stderr %q; want exit 3 (ErrOpenFileLimit)", err, stderr.String())
	}
	if msg := stderr.String(); !strings.Contains(msg, "hit the open-file limit (ulimit -n = 64) at ") ||
		!strings.Contains(msg, "run several bench processes or raise the limit") {
		t.Fatalf("message %q", msg)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// writeCounter is a net.Conn that counts its Write calls.
type writeCounter struct {
	net.Conn
	writes [][]byte
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes = append(w.writes, append([]byte(nil), p...))
	return len(p), nil
}

func TestFlushWriteEach(t *testing.T) {
	t.Parallel()
	for _, each := range []bool{false, true} {
		w := &writeCounter{}
		c := &conn{nc: w, writeEach: each, rng: newMaskSource()}
		for range 2 { // twice: the frame ends are reset after a flush
			for _, p := range []string{"a", "bb", "ccc"} {
				c.queue(ws.OpText, []byte(p))
			}
			if err := c.flush(); err != nil {
				t.Fatal(err)
			}
		}
		want := 2
		if each {
			want = 6
		}
		if len(w.writes) != want {
			t.Errorf("writeEach %v: %d writes, want %d", each, len(w.writes), want)
		}
		if each {
			for i, b := range w.writes {
				// 2-byte header, 4-byte mask, then the payload.
				if n := len(b) - 6; n != i%3+1 {
					t.Errorf("write %d holds %d payload bytes, want one whole frame of %d", i, n, i%3+1)
				}
			}
		}
	}
}
