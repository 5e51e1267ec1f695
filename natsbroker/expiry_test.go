package natsbroker

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
)

// TestStreamFollowsOptions: the one stream holds every channel, each
// bounded by HistorySize and HistoryAge.
func TestStreamFollowsOptions(t *testing.T) {
	t.Parallel()
	ns := startNATS(t, t.TempDir(), -1)
	b, err := New(Options{URL: ns.ClientURL(), HistorySize: 7, HistoryAge: 3 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	for _, ch := range []string{"a", "b.c", "a..b"} {
		for range 10 {
			if _, err := b.Publish(ctx, ch, json.RawMessage(`1`)); err != nil {
				t.Fatal(err)
			}
		}
	}
	st, err := b.js.Stream(ctx, DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := info.Config
	if cfg.MaxMsgsPerSubject != 7 || cfg.MaxAge != 3*time.Minute || len(cfg.Subjects) != 1 || cfg.Subjects[0] != "wsgate.ch.>" {
		t.Errorf("stream config: per subject %d, age %v, subjects %v", cfg.MaxMsgsPerSubject, cfg.MaxAge, cfg.Subjects)
	}
	if info.State.Msgs != 3*7 || info.State.NumSubjects != 3 {
		t.Errorf("stream holds %d publications of %d channels, want 21 of 3", info.State.Msgs, info.State.NumSubjects)
	}
}

// TestExpiredHistoryStartsAnEpoch: once a channel's whole history has
// expired, its next publication starts a new epoch at seq 1, and a
// client resuming from the old epoch is told recovered:false.
func TestExpiredHistoryStartsAnEpoch(t *testing.T) {
	t.Parallel()
	ns := startNATS(t, t.TempDir(), -1)
	b, err := New(Options{URL: ns.ClientURL(), HistoryAge: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	var old wsgate.Publication
	for range 3 {
		if old, err = b.Publish(ctx, "fading", json.RawMessage(`1`)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the history to expire", func() bool {
		h, err := b.History(ctx, "fading", nil)
		return err == nil && h.Position.Seq == 0
	})
	p, err := b.Publish(ctx, "fading", json.RawMessage(`2`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Seq != 1 || p.Epoch == old.Epoch {
		t.Fatalf("after expiry published seq %d in epoch %s (old %s), want seq 1 in a new epoch", p.Seq, p.Epoch, old.Epoch)
	}
	h, err := b.History(ctx, "fading", &wsgate.Position{Seq: old.Seq, Epoch: old.Epoch})
	if err != nil {
		t.Fatal(err)
	}
	if h.Recovered || len(h.Missed) != 1 || h.Missed[0].Seq != 1 || h.Position.Epoch != p.Epoch {
		t.Fatalf("resume from the old epoch: %+v", h)
	}
}
