package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/wsgate/wsgate/client"
)

// TestSurvey times three nodes behind proxies of different delays, a
// draining one and one that is down: the nodes come nearest first, then
// the one that did not answer, then the draining one, and the choice is
// the nearest. Node ids and regions come from /edge/ping.
func TestSurvey(t *testing.T) {
	t.Parallel()
	far := startNode(t, nil, 80*time.Millisecond)
	near := startNode(t, nil, 0)
	draining := startNode(t, nil, 0)
	down := startNode(t, nil, 0)
	down.kill()
	drained := make(chan error, 1)
	go func() { drained <- draining.srv.Drain(context.Background()) }()
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	opts := client.Options{Probes: 3, ProbeTimeout: hangGuard / 3}
	nodes, choice, err := client.Survey(ctxGuard(t), []string{far.url, down.url, draining.url, near.url}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if choice != near.url {
		t.Fatalf("choice %s, want the nearest %s", choice, near.url)
	}
	want := []struct {
		url               string
		answered, drained bool
	}{{near.url, true, false}, {far.url, true, false}, {down.url, false, false}, {draining.url, true, true}}
	if len(nodes) != len(want) {
		t.Fatalf("nodes %+v, want %d", nodes, len(want))
	}
	for i, w := range want {
		n := nodes[i]
		if n.URL != w.url || n.Answered != w.answered || n.Draining != w.drained {
			t.Errorf("node %d: %+v, want %s answered %v draining %v", i, n, w.url, w.answered, w.drained)
		}
		if n.Answered && (n.ID == "" || n.RTT <= 0) {
			t.Errorf("node %d: %+v: want its id and a round trip", i, n)
		}
	}
	if nodes[1].RTT < 2*80*time.Millisecond {
		t.Errorf("far node's RTT %v, below the proxy's two 80 ms delays", nodes[1].RTT)
	}
}

// TestSurveyNoSeed: no seed is an error matching ErrNoNode.
func TestSurveyNoSeed(t *testing.T) {
	t.Parallel()
	if _, _, err := client.Survey(context.Background(), nil, client.Options{}); err == nil {
		t.Fatal("Survey with no seed: no error")
	}
}
