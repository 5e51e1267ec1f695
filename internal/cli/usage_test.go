package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/internal/backend"
)

func noEnv(string) string { return "" }

// TestErrorMessages runs the command line with mistakes and checks what a
// person sees: the message once, one prefix, and for a mistyped flag or
// argument one line pointing at the help.
func TestErrorMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string // all Report prints
		code int
	}{
		{"bad backend URL", []string{"--backend", "foo"},
			"wsgate: backend: invalid URL \"foo\": want http:// or https:// and a host\n", 1},
		{"compression level", []string{"--compression-level", "12"},
			"wsgate: --compression-level 12: want 1 to 9 or -2\n", 1},
		{"compression level 0", []string{"--compression-level", "0"},
			"wsgate: --compression-level 0: want 1 to 9 or -2\n", 1},
		{"unknown flag", []string{"--nope"},
			"wsgate: unknown flag --nope\nrun wsgate --help for the flags\n", 2},
		{"bad engine", []string{"--engine", "fast"},
			"wsgate: invalid value \"fast\" for flag -engine: want auto, epoll, uring or goroutine\nrun wsgate --help for the flags\n", 2},
		{"stray argument", []string{"serve"},
			"wsgate: unexpected argument \"serve\"\nrun wsgate --help for the flags\n", 2},
		{"log level", []string{"--log-level", "loud"},
			"wsgate: --log-level \"loud\": want debug, info, warn or error\n", 1},
		{"static", []string{"--static", "/no/such/dir"},
			"wsgate: --static \"/no/such/dir\": not a directory\n", 1},
		{"cdn url relative", []string{"--cdn-url", "cdn.example.com"},
			"wsgate: --cdn-url \"cdn.example.com\": want an absolute http or https URL\n", 1},
		{"cdn url query", []string{"--cdn-url", "https://cdn.example.com/?v=1"},
			"wsgate: --cdn-url \"https://cdn.example.com/?v=1\": want no query or fragment\n", 1},
		{"cdn url fragment", []string{"--cdn-url", "https://cdn.example.com/#x"},
			"wsgate: --cdn-url \"https://cdn.example.com/#x\": want no query or fragment\n", 1},
		{"cdn url scheme", []string{"--cdn-url", "ftp://cdn.example.com"},
			"wsgate: --cdn-url \"ftp://cdn.example.com\": want an absolute http or https URL\n", 1},
		{"allowed origins", []string{"--allowed-origins", "example.com"},
			"wsgate: allowed origin \"example.com\": want scheme://host[:port] or *\n", 1},
		{"node id", []string{"--node-id", "web 1"},
			"wsgate: node id \"web 1\": want 1 to 64 letters, digits, '.', '-' or '_'\n", 1},
		{"region", []string{"--region", "eu/west"},
			"wsgate: region \"eu/west\": want up to 64 letters, digits, '.', '-' or '_'\n", 1},
		{"public url", []string{"--public-url", "ws://web1:8080"},
			"wsgate: public URL \"ws://web1:8080\": want http:// or https://, a host and at most a path, up to 512 bytes\n", 1},
		{"auth backend without backend", []string{"--auth", "backend"},
			"wsgate: --auth backend needs --backend URL: the backend that answers POST URL/_connect\n", 1},
		{"auth backend with jwt flags", []string{"--auth", "backend", "--backend", "http://127.0.0.1:1", "--auth-issuer", "x"},
			"wsgate: --auth-jwt-secret-file, --auth-jwt-key-file, --auth-jwks-url, --auth-issuer and --auth-audience need --auth jwt, not backend\n", 1},
		{"auth backend bad backend URL", []string{"--auth", "backend", "--backend", "foo"},
			"wsgate: backend: invalid URL \"foo\": want http:// or https:// and a host\n", 1},
		{"auth forward headers bad name", []string{"--auth", "backend", "--backend", "http://127.0.0.1:1", "--auth-forward-headers", "Authorization, X Tenant"},
			"wsgate: --auth-forward-headers \"Authorization, X Tenant\": backend: header name \"X Tenant\": not a valid field name\n", 1},
		{"auth forward headers reserved", []string{"--auth", "backend", "--backend", "http://127.0.0.1:1", "--auth-forward-headers", "x-wsgate-user"},
			"wsgate: --auth-forward-headers \"x-wsgate-user\": backend: header \"x-wsgate-user\" cannot be forwarded\n", 1},
		{"auth forward headers without backend auth", []string{"--auth-forward-headers", "Authorization"},
			"wsgate: --auth-forward-headers needs --auth backend\n", 1},
		{"auth forward headers with jwt", []string{"--auth", "jwt", "--auth-jwks-url", "https://id.example/jwks", "--auth-forward-headers", "X-Api-Key"},
			"wsgate: --auth-forward-headers needs --auth backend\n", 1},
		{"auth query token without auth", []string{"--auth-query-token"},
			"wsgate: --auth-query-token needs --auth jwt or backend\n", 1},
		{"auth unknown", []string{"--auth", "oauth"},
			"wsgate: --auth \"oauth\": want none, jwt or backend\n", 1},
		{"auth jwt without a key", []string{"--auth", "jwt"},
			"wsgate: --auth jwt: want exactly one of --auth-jwt-secret-file, --auth-jwt-key-file and --auth-jwks-url\n", 1},
		{"auth jwt with two keys", []string{"--auth", "jwt", "--auth-jwt-secret-file", "s", "--auth-jwks-url", "https://id.example/jwks"},
			"wsgate: --auth jwt: want exactly one of --auth-jwt-secret-file, --auth-jwt-key-file and --auth-jwks-url\n", 1},
		{"auth flags without jwt", []string{"--auth-issuer", "https://id.example"},
			"wsgate: --auth-jwt-secret-file, --auth-jwt-key-file, --auth-jwks-url, --auth-issuer and --auth-audience need --auth jwt\n", 1},
		{"auth jwks url", []string{"--auth", "jwt", "--auth-jwks-url", "file:///etc/jwks.json"},
			"wsgate: --auth-jwks-url \"file:///etc/jwks.json\": want an absolute http or https URL\n", 1},
		{"auth skew", []string{"--auth", "jwt", "--auth-jwks-url", "https://id.example/jwks", "--auth-skew", "10m"},
			"wsgate: --auth-skew 10m0s: want 1s to 5m0s\n", 1},
		{"auth skew zero", []string{"--auth", "jwt", "--auth-jwks-url", "https://id.example/jwks", "--auth-skew", "0s"},
			"wsgate: --auth-skew 0s: want 1s to 5m0s\n", 1},
		{"auth timeout", []string{"--auth", "jwt", "--auth-jwks-url", "https://id.example/jwks", "--auth-timeout", "0s"},
			"wsgate: --auth-timeout 0s: want more than 0\n", 1},
		{"auth secret file", []string{"--auth", "jwt", "--auth-jwt-secret-file", "/no/such/secret"},
			"wsgate: --auth-jwt-secret-file: open /no/such/secret: no such file or directory\n", 1},
		{"auth key file", []string{"--auth", "jwt", "--auth-jwt-key-file", "/no/such/key.pem"},
			"wsgate: --auth-jwt-key-file: open /no/such/key.pem: no such file or directory\n", 1},
		{"help on nothing", []string{"help", "me"},
			"wsgate: no help on \"me\": want wsgate help, wsgate help bench [SUB], wsgate help nodes, wsgate help delayproxy or wsgate help version\nrun wsgate --help for the flags\n", 2},
		{"bench without subcommand", []string{"bench"},
			"wsgate bench: missing subcommand: conns, echo, call, fanout, pub or failover\nrun wsgate bench --help for the flags\n", 2},
		{"bench unknown flag", []string{"bench", "echo", "--nope"},
			"wsgate bench: unknown flag --nope\nrun wsgate bench echo --help for the flags\n", 2},
		{"bench bad value", []string{"bench", "call", "--conns", "0"},
			"wsgate bench: --conns 0: want 1 to 100000\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := tt.args
			if args[0] != "bench" && args[0] != "help" {
				// Should a mistake go unnoticed, serve on a free port.
				args = append(args, "--listen", "127.0.0.1:0")
			}
			var out, logs bytes.Buffer
			err := Run(context.Background(), args, noEnv, &out, &logs, nil)
			if err == nil {
				t.Fatalf("no error; output %q", out.String())
			}
			var shown bytes.Buffer
			if code := Report(&shown, err); shown.String() != tt.want || code != tt.code {
				t.Errorf("Report printed\n%q (exit %d), want\n%q (exit %d)", shown.String(), code, tt.want, tt.code)
			}
			if out.Len() > 0 || strings.Contains(logs.String(), "Usage") {
				t.Errorf("printed besides the error: stdout %q, stderr %q", out.String(), logs.String())
			}
		})
	}
}

func TestErrorsStillUnwrap(t *testing.T) {
	t.Parallel()
	err := Run(context.Background(), []string{"--backend", "ftp://x"}, noEnv, &bytes.Buffer{}, &bytes.Buffer{}, nil)
	if !errors.Is(err, backend.ErrInvalidURL) {
		t.Errorf("err = %v, want one wrapping backend.ErrInvalidURL", err)
	}
}

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	run := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := Run(context.Background(), args, noEnv, &out, &errOut, nil); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if errOut.Len() > 0 {
			t.Errorf("%q wrote to stderr: %q", args, errOut.String())
		}
		return out.String()
	}
	h := run("--help")
	for _, want := range []string{"/ws", "/echo", "/api/publish", "/api/cache/invalidate", "/metrics", "/healthz", "/readyz", "/edge/ping", "/edge/nodes",
		"any other path answers 404", "wsgate bench SUB", "wsgate nodes URL", "wsgate version", "-listen", "-backend", "-node-id", "-region", "-public-url", "WSGATE_MAX_MESSAGE_SIZE",
		"-nats", "-nats-creds", "-nats-tls-ca", "-history-size", "-history-age",
		"-auth", "-auth-jwt-secret-file", "-auth-jwt-key-file", "-auth-jwks-url", "-auth-issuer", "-auth-audience", "-auth-skew", "-auth-timeout", "-auth-query-token", "-auth-forward-headers"} {
		if !strings.Contains(h, want) {
			t.Errorf("wsgate --help lacks %q:\n%s", want, h)
		}
	}
	if !strings.HasPrefix(h, "Usage: wsgate [flags]") || strings.Index(h, "/metrics") > strings.Index(h, "Flags:") {
		t.Errorf("wsgate --help does not start with the endpoints and subcommands:\n%s", h)
	}
	if got := run("help"); got != h {
		t.Errorf("wsgate help differs from wsgate --help:\n%s", got)
	}
	if got := run("-h"); got != h {
		t.Errorf("wsgate -h differs from wsgate --help")
	}
	b := run("help", "bench")
	if b != run("bench", "--help") || !strings.Contains(b, "Flags of echo only:") || !strings.Contains(b, "wsgate bench SUB --help") {
		t.Errorf("wsgate help bench:\n%s", b)
	}
	if e := run("help", "bench", "echo"); !strings.Contains(e, "Usage: wsgate bench echo") || !strings.Contains(e, "-write-each") {
		t.Errorf("wsgate help bench echo:\n%s", e)
	}
	if v := run("version"); v != run("--version") || !strings.HasPrefix(v, "wsgate ") {
		t.Errorf("wsgate --version = %q, wsgate version = %q", run("--version"), v)
	}
	if !strings.Contains(run("help", "version"), "Usage: wsgate version") {
		t.Error("wsgate help version")
	}
}
