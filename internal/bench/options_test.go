package bench

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		check   func(t *testing.T, o Options)
		wantErr string // substring; "" means success
	}{
		{name: "echo defaults", args: []string{"echo"}, check: func(t *testing.T, o Options) {
			if o.Cmd != CmdEcho || o.URL != "ws://127.0.0.1:8080/echo" || o.Conns != 100 || o.Size != 64 || o.Inflight != 1 || o.Payload != PayloadBinary {
				t.Errorf("got %+v", o)
			}
			if o.Duration != 10*time.Second || o.Warmup != 2*time.Second || o.SourceIPs != 8 || o.DialConcurrency != 64 {
				t.Errorf("common defaults: %+v", o)
			}
		}},
		{name: "call defaults", args: []string{"call"}, check: func(t *testing.T, o Options) {
			if o.URL != "ws://127.0.0.1:8080/ws" || o.Method != "market.symbols" || o.Args != nil {
				t.Errorf("got %+v", o)
			}
		}},
		{name: "fanout defaults", args: []string{"fanout"}, check: func(t *testing.T, o Options) {
			if o.Conns != 1000 || o.Channel != "bench" || o.Rate != 100 || o.APIKey != "" {
				t.Errorf("got %+v", o)
			}
		}},
		{name: "conns", args: []string{"conns", "--conns", "19000", "--duration", "1m", "--server-pid", "42", "--json"}, check: func(t *testing.T, o Options) {
			if o.Cmd != CmdConns || o.Conns != 19000 || o.Duration != time.Minute || len(o.ServerPIDs) != 1 || o.ServerPIDs[0] != 42 || !o.JSON {
				t.Errorf("got %+v", o)
			}
		}},
		{name: "echo flags", args: []string{"echo", "--size", "1024", "--inflight", "8", "--text", "--url", "ws://localhost:9/e"}, check: func(t *testing.T, o Options) {
			if o.Size != 1024 || o.Inflight != 8 || o.Payload != PayloadText || o.URL != "ws://localhost:9/e" {
				t.Errorf("got %+v", o)
			}
		}},
		{name: "json payload", args: []string{"echo", "--payload", "json", "--size", "4096"}, check: func(t *testing.T, o Options) {
			if o.Payload != PayloadJSON || o.Size != 4096 {
				t.Errorf("got %+v", o)
			}
		}},
		{name: "text=false after payload text", args: []string{"echo", "--payload", "text", "--text=false"}, check: func(t *testing.T, o Options) {
			if o.Payload != PayloadBinary {
				t.Errorf("payload %v", o.Payload)
			}
		}},
		{name: "failover defaults", args: []string{"failover"}, check: func(t *testing.T, o Options) {
			if o.Cmd != CmdFailover || o.Conns != 1000 || o.Rate != 100 || o.Channel != "failover" || len(o.URLs) != 1 || o.URLs[0] != "http://127.0.0.1:8080" || o.Duration != time.Minute {
				t.Errorf("got %+v", o)
			}
		}},
		{name: "failover seeds", args: []string{"failover", "--url", "ws://127.0.0.1:9080/ws,http://127.0.0.1:9081/,https://localhost:9082"}, check: func(t *testing.T, o Options) {
			want := []string{"ws://127.0.0.1:9080", "http://127.0.0.1:9081", "https://localhost:9082"}
			if strings.Join(o.URLs, " ") != strings.Join(want, " ") {
				t.Errorf("seeds %q, want %q", o.URLs, want)
			}
		}},
		{name: "fanout drop mode", args: []string{"fanout", "--drop-every", "5s", "--drop-for", "2s", "--backoff-max", "2s"}, check: func(t *testing.T, o Options) {
			if o.DropEvery != 5*time.Second || o.DropFor != 2*time.Second || o.DropJitter != 0.2 || o.BackoffMax != 2*time.Second {
				t.Errorf("got %+v", o)
			}
		}},
		{name: "fanout drop defaults", args: []string{"fanout"}, check: func(t *testing.T, o Options) {
			if o.DropEvery != 0 || o.DropFor != 2*time.Second || o.DropJitter != 0.2 || o.BackoffMax != 0 {
				t.Errorf("got %+v", o)
			}
		}},
		{name: "drop-for not below drop-every", args: []string{"fanout", "--drop-every", "2s", "--drop-for", "2s"}, wantErr: "less than --drop-every"},
		{name: "drop-jitter too large", args: []string{"fanout", "--drop-every", "5s", "--drop-jitter", "0.6"}, wantErr: "--drop-jitter 0.6"},
		{name: "drop mode with padding", args: []string{"fanout", "--drop-every", "5s", "--size", "10"}, wantErr: "neither --size"},
		{name: "drop mode on /echo", args: []string{"fanout", "--drop-every", "5s", "--url", "ws://127.0.0.1:1/echo"}, wantErr: "connect to a node's /ws"},
		{name: "failover bad seed", args: []string{"failover", "--url", "tcp://127.0.0.1:1"}, wantErr: "want http://host:port"},
		{name: "failover server-pid", args: []string{"failover", "--server-pid", "1"}, wantErr: "neither --server-pid nor --deflate"},
		{name: "pub defaults", args: []string{"pub"}, check: func(t *testing.T, o Options) {
			if o.URL != "ws://127.0.0.1:8080/ws" || o.Conns != 100 || o.Inflight != 8 || o.Channel != "bench" || o.Channels != 1 {
				t.Errorf("got %+v", o)
			}
		}},
		{name: "servers per target", args: []string{"fanout", "--url", "ws://127.0.0.1:1/ws,ws://127.0.0.1:2/ws", "--server-pid", "7,8"}, check: func(t *testing.T, o Options) {
			if len(o.URLs) != 2 || len(o.ServerPIDs) != 2 || o.ServerPIDs[0] != 7 || o.ServerPIDs[1] != 8 {
				t.Errorf("URLs %v, server pids %v", o.URLs, o.ServerPIDs)
			}
		}},
		{name: "servers not per target", args: []string{"fanout", "--url", "ws://127.0.0.1:1/ws,ws://127.0.0.1:2/ws", "--server-pid", "7,8,9"}, wantErr: "one per target"},
		{name: "server pid not a number", args: []string{"echo", "--server-pid", "x"}, wantErr: "want process ids"},
		{name: "pub channels", args: []string{"pub", "--channels", "0"}, wantErr: "--channels"},
		{name: "url list", args: []string{"echo", "--url", "ws://127.0.0.1:1/e,http://x/"}, wantErr: "want ws://"},
		{name: "unknown payload", args: []string{"echo", "--payload", "xml"}, wantErr: "want binary, text or json"},
		{name: "json too small", args: []string{"echo", "--payload", "json", "--size", "20"}, wantErr: "json payloads need at least"},
		{name: "json in flight", args: []string{"echo", "--payload", "json", "--size", "16777216", "--conns", "100", "--inflight", "8"}, wantErr: "--inflight"},
		{name: "payload on call", args: []string{"call", "--payload", "json"}, wantErr: "unknown flag"},
		{name: "call args", args: []string{"call", "--method", "market.history", "--args", `{"symbol":"ACME","points":5}`}, check: func(t *testing.T, o Options) {
			if o.Method != "market.history" || string(o.Args) != `{"symbol":"ACME","points":5}` {
				t.Errorf("got %+v", o)
			}
		}},
		{name: "steps", args: []string{"conns", "--conns", "19000", "--steps", "1000, 10000"}, check: func(t *testing.T, o Options) {
			if len(o.Steps) != 2 || o.Steps[0] != 1000 || o.Steps[1] != 10000 {
				t.Errorf("steps %v", o.Steps)
			}
		}},
		{name: "steps not below conns", args: []string{"conns", "--conns", "1000", "--steps", "1000"}, wantErr: "--steps"},
		{name: "steps not ascending", args: []string{"conns", "--conns", "1000", "--steps", "500,200"}, wantErr: "--steps"},
		{name: "steps not numbers", args: []string{"conns", "--steps", "1k"}, wantErr: "--steps"},
		{name: "steps on echo", args: []string{"echo", "--steps", "10"}, wantErr: "unknown flag"},
		{name: "no subcommand", args: nil, wantErr: "missing subcommand"},
		{name: "unknown subcommand", args: []string{"flood"}, wantErr: `unknown subcommand "flood"`},
		{name: "bad args JSON", args: []string{"call", "--args", "{"}, wantErr: "not valid JSON"},
		{name: "inflight on conns", args: []string{"conns", "--inflight", "2"}, wantErr: "unknown flag"},
		{name: "too many conns", args: []string{"conns", "--conns", "100001"}, wantErr: "--conns 100001"},
		{name: "zero conns", args: []string{"echo", "--conns", "0"}, wantErr: "--conns 0"},
		{name: "zero duration", args: []string{"echo", "--duration", "0s"}, wantErr: "--duration"},
		{name: "long duration", args: []string{"echo", "--duration", "2h"}, wantErr: "--duration"},
		{name: "inflight", args: []string{"echo", "--inflight", "1001"}, wantErr: "--inflight"},
		{name: "size", args: []string{"echo", "--size", "-1"}, wantErr: "--size"},
		{name: "rate", args: []string{"fanout", "--rate", "0"}, wantErr: "--rate"},
		{name: "http url", args: []string{"echo", "--url", "http://127.0.0.1/echo"}, wantErr: "--url"},
		{name: "stray argument", args: []string{"echo", "now"}, wantErr: `unexpected argument "now"`},
		{name: "source ips", args: []string{"echo", "--source-ips", "300"}, wantErr: "--source-ips"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, err := parseArgs(tt.args, &bytes.Buffer{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, o)
		})
	}
}

func TestParseArgsHelp(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if _, err := parseArgs([]string{"--help"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	// Every subcommand's own flags are listed, and how to see them alone.
	for _, want := range []string{"conns", "echo", "call", "fanout", "-server-pid", "-allow-remote",
		"wsgate bench SUB --help", "Flags of conns only:", "-steps", "Flags of echo only:", "-write-each", "-payload",
		"Flags of call only:", "-miss-ratio", "-args", "Flags of fanout only:", "-rate", "-api-key"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help does not mention %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if _, err := parseArgs([]string{"call", "--help"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("call --help: err = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"Usage: wsgate bench call", "-url", "-method", "-write-each"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("call --help does not mention %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "-steps") {
		t.Errorf("call --help lists conns' --steps:\n%s", out.String())
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args     []string
		msg      string
		helpWith string
	}{
		{nil, "bench: missing subcommand: conns, echo, call, fanout, pub or failover", "wsgate bench"},
		{[]string{"flood"}, `bench: unknown subcommand "flood": want conns, echo, call, fanout, pub or failover`, "wsgate bench"},
		{[]string{"echo", "--nope"}, "bench: unknown flag --nope", "wsgate bench echo"},
		{[]string{"call", "--inflight", "x"}, `bench: invalid value "x" for flag -inflight: parse error`, "wsgate bench call"},
		{[]string{"echo", "now"}, `bench: unexpected argument "now"`, "wsgate bench echo"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		_, err := parseArgs(tt.args, &out)
		var ue interface{ HelpCommand() string }
		if err == nil || err.Error() != tt.msg || !errors.As(err, &ue) || ue.HelpCommand() != tt.helpWith {
			t.Errorf("%q: err = %v, want %q pointing at %s --help", tt.args, err, tt.msg, tt.helpWith)
		}
		if out.Len() > 0 {
			t.Errorf("%q printed %q besides returning the error", tt.args, out.String())
		}
	}
}

func TestCommandString(t *testing.T) {
	t.Parallel()
	for _, c := range []Command{CmdConns, CmdEcho, CmdCall, CmdFanout, CmdPub, CmdFailover} {
		if got, ok := parseCommand(c.String()); !ok || got != c {
			t.Errorf("parseCommand(%q) = %v, %v", c.String(), got, ok)
		}
	}
	if s := Command(9).String(); s != "Command(9)" {
		t.Errorf("Command(9) = %q", s)
	}
}
