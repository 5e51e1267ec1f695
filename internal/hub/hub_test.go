package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/wsgate/wsgate/internal/envelope"
	"github.com/wsgate/wsgate/internal/frame"
	"github.com/wsgate/wsgate/ws"
)

// recorder is a Subscriber that keeps every frame it is sent.
type recorder struct {
	mu     sync.Mutex
	frames []*frame.Prepared
}

func (r *recorder) Send(f *frame.Prepared) {
	r.mu.Lock()
	r.frames = append(r.frames, f)
	r.mu.Unlock()
}

type pushed struct {
	Ch   string          `json:"ch"`
	Seq  uint64          `json:"seq"`
	Data json.RawMessage `json:"data"`
}

// received decodes what r was sent.
func (r *recorder) received(t testing.TB) []pushed {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]pushed, 0, len(r.frames))
	for _, f := range r.frames {
		if f.Opcode() != ws.OpText {
			t.Fatalf("frame opcode %v, want Text", f.Opcode())
		}
		var p pushed
		if err := json.Unmarshal(f.Payload(), &p); err != nil {
			t.Fatalf("frame payload %q: %v", f.Payload(), err)
		}
		out = append(out, p)
	}
	return out
}

// seqs returns the sequence numbers r was sent on channel ch.
func (r *recorder) seqs(t testing.TB, ch string) []uint64 {
	var out []uint64
	for _, p := range r.received(t) {
		if p.Ch == ch {
			out = append(out, p.Seq)
		}
	}
	return out
}

// subscribe subscribes s to ch with no backlog and reports added.
func subscribe(t testing.TB, h *Hub, ch string, s Subscriber) bool {
	t.Helper()
	added, err := h.Subscribe(context.Background(), ch, s, nil)
	if err != nil {
		t.Errorf("Subscribe(%q): %v", ch, err) // Errorf: callers may be other goroutines
	}
	return added
}

// withBacklog returns a backlog function that starts with missed.
func withBacklog(missed ...Publication) func(context.Context) (Backlog, error) {
	return func(context.Context) (Backlog, error) { return Backlog{Missed: missed}, nil }
}

// checkIncreasing fails the test unless every subscriber saw each
// channel's seqs strictly increasing.
func checkIncreasing(t *testing.T, subs []*recorder, channels []string) {
	t.Helper()
	for i, r := range subs {
		for _, ch := range channels {
			s := r.seqs(t, ch)
			for j := 1; j < len(s); j++ {
				if s[j] <= s[j-1] {
					t.Fatalf("subscriber %d channel %s: seq %d after %d", i, ch, s[j], s[j-1])
				}
			}
		}
	}
}

func pub(seq uint64, epoch string) Publication {
	return Publication{Seq: seq, Epoch: epoch, Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, seq))}
}

func TestSubscribeUnsubscribe(t *testing.T) {
	t.Parallel()
	src := newSource()
	h := New(Options{Source: src})
	a, b := &recorder{}, &recorder{}

	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
	}
	check("first Subscribe", subscribe(t, h, "t", a), true)
	check("source subscriptions", src.active(), map[string]int{"t": 1})
	check("repeated Subscribe", subscribe(t, h, "t", a), false)
	check("second subscriber", subscribe(t, h, "t", b), true)
	check("source subscriptions after second", src.active(), map[string]int{"t": 1})
	subscribe(t, h, "u", a)
	check("Subscribers(t)", h.Subscribers("t"), 2)
	check("Subscribers(none)", h.Subscribers("none"), 0)
	check("Stats", h.Stats(), Stats{Channels: 2, Subscriptions: 3})

	src.publish("t", pub(1, "e"))
	check("Publish to nobody", h.Publish("none", pub(1, "e")), 0)
	check("Stats", h.Stats(), Stats{Channels: 2, Subscriptions: 3, Publications: 2, Deliveries: 2})

	check("Unsubscribe", h.Unsubscribe("t", a), true)
	check("repeated Unsubscribe", h.Unsubscribe("t", a), false)
	check("Unsubscribe unknown channel", h.Unsubscribe("none", a), false)
	check("source subscriptions before last", src.active(), map[string]int{"t": 1, "u": 1})
	check("last Unsubscribe", h.Unsubscribe("t", b), true)
	check("source subscriptions after last", src.active(), map[string]int{"u": 1})
	check("Subscribers(t) after", h.Subscribers("t"), 0)
	check("Publish after", h.Publish("t", pub(2, "e")), 0)

	check("Subscribe after drop", subscribe(t, h, "t", b), true)
	check("source subscriptions made", src.made("t"), 2)
	check("Stats", h.Stats(), Stats{Channels: 2, Subscriptions: 2, Publications: 3, Deliveries: 2})

	check("a got", a.seqs(t, "t"), []uint64{1})
	check("b got", b.seqs(t, "t"), []uint64{1})
}

func TestUnsubscribeAll(t *testing.T) {
	t.Parallel()
	src := newSource()
	h := New(Options{Source: src})
	a, b := &recorder{}, &recorder{}
	for _, ch := range []string{"x", "y", "z"} {
		subscribe(t, h, ch, a)
	}
	subscribe(t, h, "y", b)

	if n := h.UnsubscribeAll(a); n != 3 {
		t.Fatalf("UnsubscribeAll ended %d subscriptions, want 3", n)
	}
	if want := map[string]int{"y": 1}; !reflect.DeepEqual(src.active(), want) {
		t.Fatalf("source subscriptions %v, want %v", src.active(), want)
	}
	if n := h.UnsubscribeAll(a); n != 0 {
		t.Fatalf("second UnsubscribeAll ended %d, want 0", n)
	}
	if got, want := h.Stats(), (Stats{Channels: 1, Subscriptions: 1}); got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
	if n := h.Publish("y", pub(1, "")); n != 1 {
		t.Fatalf("Publish(y) reached %d, want 1", n)
	}
	if !subscribe(t, h, "x", a) {
		t.Fatal("re-Subscribe after UnsubscribeAll: not added")
	}
	if len(h.index) != 2 {
		t.Fatalf("index holds %d subscribers, want 2", len(h.index))
	}
	h.UnsubscribeAll(a)
	h.Unsubscribe("y", b)
	if len(h.index) != 0 || len(h.channels) != 0 {
		t.Fatalf("hub not empty: %d indexed subscribers, %d channels", len(h.index), len(h.channels))
	}
}

func TestPublishSharesOneFrame(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	subs := make([]*recorder, 100)
	for i := range subs {
		subs[i] = &recorder{}
		subscribe(t, h, "ticks", subs[i])
	}
	data := json.RawMessage(`{"symbol":"ACME","price":1.5}`)
	if n := h.Publish("ticks", Publication{Seq: 7, Epoch: "e", Data: data}); n != len(subs) {
		t.Fatalf("Publish reached %d, want %d", n, len(subs))
	}
	f := subs[0].frames[0]
	if want := envelope.AppendPublication(nil, "ticks", 7, "e", data); string(f.Payload()) != string(want) {
		t.Fatalf("payload %s, want %s", f.Payload(), want)
	}
	for i, r := range subs {
		if len(r.frames) != 1 || r.frames[0] != f {
			t.Fatalf("subscriber %d got %d frames, not the shared one", i, len(r.frames))
		}
	}
}

func TestPublishLargePayload(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	r := &recorder{}
	subscribe(t, h, "big", r)
	data, _ := json.Marshal(string(make([]byte, 3*stackFrame)))
	h.Publish("big", Publication{Seq: 1, Data: data})
	got := r.received(t)
	if len(got) != 1 || string(got[0].Data) != string(data) {
		t.Fatalf("large publication did not arrive intact")
	}
}

// TestPublishWithoutSubscribers checks that no frame is built for nobody.
// It is not parallel: AllocsPerRun refuses parallel tests.
func TestPublishWithoutSubscribers(t *testing.T) {
	h := New(Options{})
	r := &recorder{}
	subscribe(t, h, "other", r)
	subscribe(t, h, "gone", r)
	h.Unsubscribe("gone", r)
	p := pub(1, "e")
	if n := testing.AllocsPerRun(100, func() {
		h.Publish("none", p)
		h.Publish("gone", p)
	}); n != 0 {
		t.Fatalf("Publish without subscribers allocates %v times, want 0", n)
	}
}

func TestDedupe(t *testing.T) {
	t.Parallel()
	type step struct {
		seq   uint64
		epoch string
	}
	tests := []struct {
		name  string
		steps []step
		want  []uint64 // seqs delivered
	}{
		{"in order", []step{{1, "a"}, {2, "a"}, {3, "a"}}, []uint64{1, 2, 3}},
		{"repeat skipped", []step{{1, "a"}, {1, "a"}, {2, "a"}, {2, "a"}}, []uint64{1, 2}},
		{"older skipped", []step{{5, "a"}, {3, "a"}, {6, "a"}}, []uint64{5, 6}},
		{"gaps allowed", []step{{1, "a"}, {10, "a"}, {11, "a"}}, []uint64{1, 10, 11}},
		{"new epoch resets", []step{{5, "a"}, {1, "b"}, {2, "b"}, {3, "a"}}, []uint64{5, 1, 2, 3}},
		{"empty epoch is an epoch", []step{{2, ""}, {1, ""}, {1, "x"}}, []uint64{2, 1}},
		{"unsequenced always delivered", []step{{0, "a"}, {0, "a"}, {3, "a"}, {0, "a"}, {3, "a"}}, []uint64{0, 0, 3, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := New(Options{})
			r := &recorder{}
			subscribe(t, h, "c", r)
			for _, s := range tt.steps {
				h.Publish("c", pub(s.seq, s.epoch))
			}
			if got := r.seqs(t, "c"); !slices.Equal(got, tt.want) {
				t.Fatalf("delivered %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBacklog(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	live := &recorder{}
	subscribe(t, h, "c", live)
	h.Publish("c", pub(1, "e"))
	h.Publish("c", pub(2, "e"))

	r := &recorder{}
	calls := 0
	started := false
	added, err := h.Subscribe(context.Background(), "c", r, func(context.Context) (Backlog, error) {
		calls++
		// The backlog may overlap and be out of order; duplicates are dropped.
		return Backlog{
			Start:  func() { started = len(r.frames) == 0 },
			Missed: []Publication{pub(1, "e"), pub(2, "e"), pub(2, "e"), pub(1, "e")},
		}, nil
	})
	if err != nil || !added || calls != 1 || !started {
		t.Fatalf("Subscribe = %v, %v with %d backlog calls, started first %v; want true, nil, 1, true", added, err, calls, started)
	}
	h.Publish("c", pub(2, "e")) // arrives live too: skipped
	h.Publish("c", pub(3, "e"))
	if got, want := r.seqs(t, "c"), []uint64{1, 2, 3}; !slices.Equal(got, want) {
		t.Fatalf("resumed subscriber got %v, want %v", got, want)
	}
	if got, want := live.seqs(t, "c"), []uint64{1, 2, 3}; !slices.Equal(got, want) {
		t.Fatalf("live subscriber got %v, want %v", got, want)
	}
	h.Subscribe(context.Background(), "c", r, func(context.Context) (Backlog, error) { calls++; return Backlog{}, nil })
	if calls != 1 {
		t.Fatalf("backlog called for a repeated Subscribe")
	}
	if got, want := h.Stats().Deliveries, uint64(6); got != want {
		t.Fatalf("Deliveries = %d, want %d", got, want)
	}
}

// TestResumeRace resumes subscribers while a publisher runs through a
// Source that records each publication in a log before delivering it:
// each subscriber must see every publication exactly once, in order,
// whether it came from the backlog, live, or both.
func TestResumeRace(t *testing.T) {
	t.Parallel()
	const n = 600
	src := newSource()
	h := New(Options{Source: src})
	var (
		logMu sync.Mutex
		log   []Publication
	)
	backlog := func(context.Context) (Backlog, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return Backlog{Missed: slices.Clone(log)}, nil
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for seq := uint64(1); seq <= n; seq++ {
			p := pub(seq, "e")
			logMu.Lock() // recorded where backlogs read it before it is delivered
			log = append(log, p)
			logMu.Unlock()
			src.publish("c", p)
		}
	})
	subs := make([]*recorder, 20)
	for i := range subs {
		for { // spread the resumes over the run
			logMu.Lock()
			published := len(log)
			logMu.Unlock()
			if published >= i*n/len(subs) {
				break
			}
			runtime.Gosched()
		}
		subs[i] = &recorder{}
		if _, err := h.Subscribe(context.Background(), "c", subs[i], backlog); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	want := make([]uint64, n)
	for i := range want {
		want[i] = uint64(i + 1)
	}
	for i, r := range subs {
		if got := r.seqs(t, "c"); !slices.Equal(got, want) {
			t.Fatalf("subscriber %d got %d publications, not 1..%d in order", i, len(got), n)
		}
	}
}

// TestConcurrent hammers one hub from many goroutines; run it with -race.
// Each channel has one publisher, so every subscriber must see that
// channel's sequence numbers strictly increasing.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	channels := []string{"a", "b", "c", "d"}
	const pubs = 500
	var wg sync.WaitGroup
	for _, ch := range channels {
		wg.Go(func() {
			for seq := uint64(1); seq <= pubs; seq++ {
				h.Publish(ch, pub(seq, "e"))
			}
		})
	}
	subs := make([]*recorder, 16)
	for i := range subs {
		subs[i] = &recorder{}
		r := subs[i]
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			for range 300 {
				ch := channels[rng.IntN(len(channels))]
				switch rng.IntN(4) {
				case 0, 1:
					subscribe(t, h, ch, r)
				case 2:
					h.Unsubscribe(ch, r)
				case 3:
					h.UnsubscribeAll(r)
				}
				h.Subscribers(ch)
				h.Stats()
			}
			h.UnsubscribeAll(r)
		})
	}
	wg.Wait()
	checkIncreasing(t, subs, channels)
	if st := h.Stats(); st.Channels != 0 || st.Subscriptions != 0 {
		t.Fatalf("after everyone left, Stats = %+v", st)
	}
	if len(h.index) != 0 || len(h.channels) != 0 {
		t.Fatalf("hub not empty: %d indexed subscribers, %d channels", len(h.index), len(h.channels))
	}
}
