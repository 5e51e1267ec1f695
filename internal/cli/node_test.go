package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"testing"
)

// TestNodeFlags: --node-id, --region and --public-url and their
// WSGATE_* twins; a flag wins over its twin.
func TestNodeFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name               string
		args               []string
		env                map[string]string
		id, region, public string
	}{
		{"defaults", nil, nil, "", "", ""},
		{"flags", []string{"--node-id", "eu1", "--region", "eu-west", "--public-url", "https://eu1.example.com"}, nil, "eu1", "eu-west", "https://eu1.example.com"},
		{"environment", nil, map[string]string{"WSGATE_NODE_ID": "eu2", "WSGATE_REGION": "eu-north", "WSGATE_PUBLIC_URL": "https://eu2.example.com"}, "eu2", "eu-north", "https://eu2.example.com"},
		{"flag wins", []string{"--region", "us-east"}, map[string]string{"WSGATE_REGION": "eu-north", "WSGATE_NODE_ID": "x"}, "x", "us-east", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, err := parseFlags(tt.args, func(k string) string { return tt.env[k] }, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if o.nodeID != tt.id || o.region != tt.region || o.publicURL != tt.public {
				t.Errorf("node %q region %q public URL %q, want %q %q %q", o.nodeID, o.region, o.publicURL, tt.id, tt.region, tt.public)
			}
		})
	}
}

func TestPublicURLDefault(t *testing.T) {
	t.Parallel()
	host := func() (string, error) { return "web1.example.com", nil }
	noHost := func() (string, error) { return "", errors.New("no host name") }
	tests := []struct {
		addr     string
		hostname func() (string, error)
		want     string
	}{
		{"127.0.0.1:8080", host, "http://127.0.0.1:8080"},
		{"10.0.0.5:80", host, "http://10.0.0.5:80"},
		{"0.0.0.0:8080", host, "http://web1.example.com:8080"},
		{"[::]:8080", host, "http://web1.example.com:8080"},
		{"[::1]:9000", host, "http://[::1]:9000"},
		{"0.0.0.0:8080", noHost, "http://localhost:8080"},
		{"[fe80::1%eth0]:8080", host, ""}, // a zone makes no URL
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			a, err := net.ResolveTCPAddr("tcp", tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			if got := publicURL(a, tt.hostname); got != tt.want {
				t.Errorf("publicURL(%s) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}

// TestRunListsItsNode: the served /edge/nodes lists this node with the
// flags' identity and, without --public-url, the listening address.
func TestRunListsItsNode(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"--listen", "127.0.0.1:0", "--node-id", "eu1", "--region", "eu-west"}, noEnv, logs, logs, ready)
	}()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run: %v\n%s", err, logs)
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	res, err := http.Get("http://" + addr.String() + "/edge/nodes")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var nodes []struct {
		ID     string `json:"node"`
		Region string `json:"region"`
		URL    string `json:"url"`
	}
	if err := json.NewDecoder(res.Body).Decode(&nodes); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(addr.(*net.TCPAddr).Port)
	if len(nodes) != 1 || nodes[0].ID != "eu1" || nodes[0].Region != "eu-west" || nodes[0].URL != "http://127.0.0.1:"+port {
		t.Errorf("/edge/nodes = %+v, want eu1 in eu-west at http://127.0.0.1:%s", nodes, port)
	}
}
