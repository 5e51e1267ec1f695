package natsbroker

import (
	"fmt"
	"testing"
)

// TestResumeOnAnotherNode: a client subscribed on A leaves; publications
// go on; it resumes on C with since and gets every one it missed, in
// order, then live ones. The same resume works on a node started
// afterwards, with a new Broker and nothing in memory.
func TestResumeOnAnotherNode(t *testing.T) {
	t.Parallel()
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), Options{})
	b := startNode(t, ns.ClientURL(), Options{})
	c := startNode(t, ns.ClientURL(), Options{})
	const ch = "resume.me"
	pub := dial(t, b.ws)
	for i := 1; i <= 5; i++ {
		pub.pub(ch, fmt.Sprint(i))
	}

	first := dial(t, a.ws)
	at, _ := first.sub(ch, nil)
	if at.Seq != 5 || at.Epoch == "" {
		t.Fatalf("sub at %+v, want seq 5 with an epoch", at)
	}
	pub.pub(ch, "6")
	got := first.publications(1)
	checkRun(t, "A", got, ch, 6)
	last := position{Seq: got[0].Seq, Epoch: at.Epoch}
	first.c.Close()

	for i := 7; i <= 12; i++ {
		pub.pub(ch, fmt.Sprint(i))
	}
	resume := func(who string, n *node) {
		t.Helper()
		cl := dial(t, n.ws)
		p, missed := cl.sub(ch, &last)
		if p.Recovered == nil || !*p.Recovered || p.Epoch != last.Epoch || p.Seq != 12 {
			t.Fatalf("%s: resume answered %+v, want recovered at seq 12 in epoch %s", who, p, last.Epoch)
		}
		missed = append(missed, cl.publications(6-len(missed))...)
		checkRun(t, who, missed, ch, 7)
		for i, m := range missed {
			if string(m.Data) != fmt.Sprint(7+i) {
				t.Fatalf("%s: missed publication %d has data %s", who, i, m.Data)
			}
		}
		seq := pub.pub(ch, `"live"`)
		if m := cl.read(); m.Seq != seq || string(m.Data) != `"live"` {
			t.Fatalf("%s: after the missed ones got %+v, want the live seq %d", who, m, seq)
		}
		last.Seq = seq
		pub.pub(ch, fmt.Sprint(seq+1)) // one more it will miss once gone
		cl.c.Close()
	}
	resume("C", c)
	last.Seq-- // resume from before the live one and the next
	// A node started now knows nothing of the channel but what the
	// stream has.
	d := startNode(t, ns.ClientURL(), Options{})
	cl := dial(t, d.ws)
	p, missed := cl.sub(ch, &last)
	if p.Recovered == nil || !*p.Recovered {
		t.Fatalf("restarted node: resume answered %+v", p)
	}
	missed = append(missed, cl.publications(2-len(missed))...)
	checkRun(t, "restarted node", missed, ch, last.Seq+1)
}

// TestResumeFromAnotherEpoch: a client resuming from an epoch the
// channel no longer has is told recovered:false and gets what is kept.
func TestResumeFromAnotherEpoch(t *testing.T) {
	t.Parallel()
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), Options{HistorySize: 3})
	pub := dial(t, a.ws)
	for i := 1; i <= 5; i++ {
		pub.pub("short", fmt.Sprint(i))
	}
	for _, tt := range []struct {
		name  string
		since position
	}{
		{"unknown epoch", position{Seq: 4, Epoch: "0123456789abcdef"}},
		{"no epoch", position{}},
	} {
		cl := dial(t, a.ws)
		p, missed := cl.sub("short", &tt.since)
		if p.Recovered == nil || *p.Recovered || p.Seq != 5 {
			t.Fatalf("%s: resume answered %+v, want recovered:false at 5", tt.name, p)
		}
		missed = append(missed, cl.publications(3-len(missed))...)
		checkRun(t, tt.name, missed, "short", 3) // the 3 kept
	}
	// In the epoch but past what is kept: recovered:false too.
	cl := dial(t, a.ws)
	at, _ := cl.sub("short", nil)
	p, missed := dial(t, a.ws).sub("short", &position{Seq: 1, Epoch: at.Epoch})
	if p.Recovered == nil || *p.Recovered || len(missed) > 3 {
		t.Fatalf("resume from seq 1 with 3 kept answered %+v", p)
	}
}
