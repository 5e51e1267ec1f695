package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
)

// startNodeServer serves a wsgate Server with id on a loopback listener
// until the test ends and returns its base URL.
func startNodeServer(t *testing.T, id, region string) string {
	t.Helper()
	srv, err := wsgate.New(wsgate.Config{NodeID: id, Region: region, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		ts.Close()
	})
	return ts.URL
}

// TestNodesCommand runs wsgate nodes against two live nodes and one
// address where nothing listens: --json lists the three, the two that
// answered first, with their ids, regions and round trips, and names a
// live node as the choice; the table says the same for a person.
func TestNodesCommand(t *testing.T) {
	t.Parallel()
	a, b := startNodeServer(t, "node-a", "eu-west"), startNodeServer(t, "node-b", "us-east")
	down := httptest.NewServer(nil)
	downURL := down.URL
	down.Close()

	var out bytes.Buffer
	if err := Run(context.Background(), []string{"nodes", "--json", "--timeout", "3s", a, downURL, b}, noEnv, &out, io.Discard, nil); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Nodes []struct {
			Node, Region, URL string
			RTTMS             *float64 `json:"rtt_ms"`
			Conns             int
			Draining          bool
		}
		Choice string
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if len(rep.Nodes) != 3 {
		t.Fatalf("nodes %+v, want 3", rep.Nodes)
	}
	regions := map[string]string{"node-a": "eu-west", "node-b": "us-east"}
	for _, n := range rep.Nodes[:2] {
		if n.RTTMS == nil || *n.RTTMS <= 0 || regions[n.Node] != n.Region || n.Draining {
			t.Errorf("live node %+v: want an id, its region and a round trip", n)
		}
	}
	if last := rep.Nodes[2]; last.URL != downURL || last.RTTMS != nil {
		t.Errorf("last node %+v, want %s with no round trip", last, downURL)
	}
	if rep.Choice != rep.Nodes[0].Node || rep.Choice == "" {
		t.Errorf("choice %q, want the first node %q", rep.Choice, rep.Nodes[0].Node)
	}

	out.Reset()
	if err := Run(context.Background(), []string{"nodes", "--timeout", "3s", a, downURL, b}, noEnv, &out, io.Discard, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NODE", "node-a", "node-b", "no answer", "a client here would connect to node-"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

// TestNodesCommandMistakes: no URL, or an unknown flag, is a usage error
// pointing at wsgate nodes --help.
func TestNodesCommandMistakes(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"nodes"}, {"nodes", "--nope", "http://127.0.0.1:1"}, {"nodes", "--probes", "0", "http://127.0.0.1:1"}} {
		err := Run(context.Background(), args, noEnv, io.Discard, io.Discard, nil)
		var u *usageError
		if err == nil || !errors.As(err, &u) || u.HelpCommand() != "wsgate nodes" {
			t.Errorf("%v: %v, want a usage error pointing at wsgate nodes --help", args, err)
		}
	}
}
