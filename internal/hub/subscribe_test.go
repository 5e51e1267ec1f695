package hub

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitFor fails the test when cond does not hold within 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// subscribeAsync runs Subscribe on its own goroutine and returns its result.
func subscribeAsync(ctx context.Context, h *Hub, ch string, s Subscriber, backlog func(context.Context) (Backlog, error)) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := h.Subscribe(ctx, ch, s, backlog)
		done <- err
	}()
	return done
}

// TestSubscribeMakesOneSourceSubscription: subscribers of a new channel
// arriving while the node's subscription is being made wait for that one,
// and nothing else in the hub waits for it.
func TestSubscribeMakesOneSourceSubscription(t *testing.T) {
	t.Parallel()
	src := newSource()
	h := New(Options{Source: src})
	release := src.setGate("slow")
	a, b, c := &recorder{}, &recorder{}, &recorder{}
	doneA := subscribeAsync(context.Background(), h, "slow", a, nil)
	waitFor(t, "a pending", func() bool { return h.Subscribers("slow") == 1 })
	doneB := subscribeAsync(context.Background(), h, "slow", b, nil)
	waitFor(t, "b pending", func() bool { return h.Subscribers("slow") == 2 })

	// The hub is not held up: another channel subscribes and publishes.
	subscribe(t, h, "fast", c)
	src.publish("fast", pub(1, "e"))
	if got := c.seqs(t, "fast"); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("fast channel delivered %v while slow was subscribing", got)
	}
	select {
	case err := <-doneB:
		t.Fatalf("second subscriber returned (%v) before the node's subscription was made", err)
	default:
	}
	release()
	for _, done := range []<-chan error{doneA, doneB} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n := src.made("slow"); n != 1 {
		t.Fatalf("%d source subscriptions made for two subscribers, want 1", n)
	}
	src.publish("slow", pub(1, "e"))
	for name, r := range map[string]*recorder{"a": a, "b": b} {
		if got := r.seqs(t, "slow"); !slices.Equal(got, []uint64{1}) {
			t.Fatalf("%s got %v", name, got)
		}
	}
}

func TestSubscribeSourceFails(t *testing.T) {
	t.Parallel()
	src := newSource()
	h := New(Options{Source: src})
	src.setFail(errDown)
	release := src.setGate("c")
	doneA := subscribeAsync(context.Background(), h, "c", &recorder{}, nil)
	waitFor(t, "a pending", func() bool { return h.Subscribers("c") == 1 })
	doneB := subscribeAsync(context.Background(), h, "c", &recorder{}, nil)
	waitFor(t, "b pending", func() bool { return h.Subscribers("c") == 2 })
	release()
	for _, done := range []<-chan error{doneA, doneB} {
		if err := <-done; !errors.Is(err, errDown) || !strings.Contains(err.Error(), `"c"`) {
			t.Fatalf("Subscribe error %v, want the source's, naming the channel", err)
		}
	}
	if st := h.Stats(); st.Channels != 0 || st.Subscriptions != 0 {
		t.Fatalf("after a failed subscription Stats = %+v", st)
	}
	src.setFail(nil)
	r := &recorder{}
	if !subscribe(t, h, "c", r) {
		t.Fatal("not added once the source works again")
	}
	src.publish("c", pub(1, "e"))
	if got := r.seqs(t, "c"); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("got %v", got)
	}
}

func TestSubscribeContextEnds(t *testing.T) {
	t.Parallel()
	src := newSource()
	h := New(Options{Source: src})
	release := src.setGate("c")
	defer release()
	doneA := subscribeAsync(context.Background(), h, "c", &recorder{}, nil)
	waitFor(t, "a pending", func() bool { return h.Subscribers("c") == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	doneB := subscribeAsync(ctx, h, "c", &recorder{}, nil)
	waitFor(t, "b pending", func() bool { return h.Subscribers("c") == 2 })
	cancel()
	if err := <-doneB; !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe with a cancelled context = %v", err)
	}
	if n := h.Subscribers("c"); n != 1 {
		t.Fatalf("%d subscribers after one gave up, want 1", n)
	}
	release()
	if err := <-doneA; err != nil {
		t.Fatal(err)
	}
}

// TestBacklogHoldsLivePublications reads a backlog that blocks while
// publications arrive: other subscribers get them at once, and the new one
// gets its backlog, then what was held back, each publication once.
func TestBacklogHoldsLivePublications(t *testing.T) {
	t.Parallel()
	src := newSource()
	h := New(Options{Source: src})
	live := &recorder{}
	subscribe(t, h, "c", live)
	src.publish("c", pub(1, "e"))

	reading, proceed := make(chan struct{}), make(chan struct{})
	r := &recorder{}
	var order []string
	done := subscribeAsync(context.Background(), h, "c", r, func(context.Context) (Backlog, error) {
		close(reading)
		<-proceed // a slow history read: publications 2 and 3 arrive meanwhile
		return Backlog{
			Start:  func() { order = append(order, "start") },
			Missed: []Publication{pub(1, "e"), pub(2, "e")},
		}, nil
	})
	<-reading
	src.publish("c", pub(2, "e"))
	src.publish("c", pub(3, "e"))
	if got := live.seqs(t, "c"); !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Fatalf("live subscriber got %v while a backlog was read", got)
	}
	if len(r.frames) != 0 {
		t.Fatalf("pending subscriber was sent %d frames before its backlog", len(r.frames))
	}
	close(proceed)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	src.publish("c", pub(4, "e"))
	if got := r.seqs(t, "c"); !slices.Equal(got, []uint64{1, 2, 3, 4}) {
		t.Fatalf("resumed subscriber got %v, want 1..4", got)
	}
	if !reflect.DeepEqual(order, []string{"start"}) {
		t.Fatalf("Start ran %v", order)
	}
}

func TestSubscribeOverflow(t *testing.T) {
	t.Parallel()
	src := newSource()
	h := New(Options{Source: src})
	live := &recorder{}
	subscribe(t, h, "c", live)
	reading, proceed := make(chan struct{}), make(chan struct{})
	r := &recorder{}
	done := subscribeAsync(context.Background(), h, "c", r, func(context.Context) (Backlog, error) {
		close(reading)
		<-proceed
		return Backlog{Start: func() { t.Error("Start called for an overflowed subscription") }}, nil
	})
	<-reading
	big := []byte(`"` + strings.Repeat("x", 64<<10) + `"`)
	n := MaxHeldBytes/len(big) + 2
	for seq := range n {
		src.publish("c", Publication{Seq: uint64(seq + 1), Epoch: "e", Data: big})
	}
	close(proceed)
	if err := <-done; !errors.Is(err, ErrOverflow) {
		t.Fatalf("Subscribe = %v, want ErrOverflow", err)
	}
	if len(r.frames) != 0 || h.Subscribers("c") != 1 {
		t.Fatalf("overflowed subscriber got %d frames; %d subscribers left, want 1", len(r.frames), h.Subscribers("c"))
	}
	if got := len(live.frames); got != n {
		t.Fatalf("live subscriber got %d of %d", got, n)
	}
}

// TestUnsubscribedWhileSubscribing: a connection that closes while its
// subscription is made (UnsubscribeAll) is not left subscribed, and the
// node's subscription, made for it alone, is cancelled.
func TestUnsubscribedWhileSubscribing(t *testing.T) {
	t.Parallel()
	for _, stage := range []string{"source", "backlog"} {
		t.Run(stage, func(t *testing.T) {
			t.Parallel()
			src := newSource()
			h := New(Options{Source: src})
			var release func()
			reading, proceed := make(chan struct{}), make(chan struct{})
			backlog := func(context.Context) (Backlog, error) {
				close(reading)
				<-proceed
				return Backlog{}, nil
			}
			if stage == "source" {
				release = src.setGate("c")
				close(proceed)
			}
			r := &recorder{}
			done := subscribeAsync(context.Background(), h, "c", r, backlog)
			waitFor(t, "pending", func() bool { return h.Subscribers("c") == 1 })
			if stage == "backlog" {
				<-reading
			}
			if n := h.UnsubscribeAll(r); n != 1 {
				t.Fatalf("UnsubscribeAll ended %d, want 1", n)
			}
			if stage == "source" {
				release()
			} else {
				close(proceed)
			}
			if err := <-done; !errors.Is(err, ErrUnsubscribed) {
				t.Fatalf("Subscribe = %v, want ErrUnsubscribed", err)
			}
			if a := src.active(); len(a) != 0 {
				t.Fatalf("source subscriptions left: %v", a)
			}
			if st := h.Stats(); st.Channels != 0 || st.Subscriptions != 0 || len(h.index) != 0 {
				t.Fatalf("hub not empty: %+v, %d indexed", st, len(h.index))
			}
		})
	}
}

// TestStaleDeliveries: a delivery from a cancelled subscription of the
// node, arriving late, reaches nobody, even the subscribers of the
// channel's next subscription.
func TestStaleDeliveries(t *testing.T) {
	t.Parallel()
	src := newSource()
	h := New(Options{Source: src})
	a := &recorder{}
	subscribe(t, h, "c", a)
	old := src.deliverFunc("c")
	h.Unsubscribe("c", a)
	b := &recorder{}
	subscribe(t, h, "c", b)
	old(pub(7, "e"))
	src.publish("c", pub(8, "e"))
	if got := b.seqs(t, "c"); !slices.Equal(got, []uint64{8}) {
		t.Fatalf("new subscriber got %v, want [8] only", got)
	}
	if len(a.frames) != 0 {
		t.Fatalf("unsubscribed subscriber got %d frames", len(a.frames))
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	src := newSource()
	h := New(Options{Source: src})
	a := &recorder{}
	subscribe(t, h, "x", a)
	subscribe(t, h, "y", a)
	h.Close()
	if got := src.active(); len(got) != 0 {
		t.Fatalf("source subscriptions after Close: %v", got)
	}
	if _, err := h.Subscribe(context.Background(), "x", a, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Subscribe after Close = %v, want ErrClosed", err)
	}
	if h.Unsubscribe("x", a) || h.UnsubscribeAll(a) != 0 {
		t.Fatal("Unsubscribe after Close found a subscription")
	}
	if st := h.Stats(); st.Channels != 0 || st.Subscriptions != 0 {
		t.Fatalf("Stats after Close = %+v", st)
	}
}

// TestConcurrentSources hammers a hub whose source delivers concurrently
// with subscriptions coming and going; run it with -race. Every
// subscriber sees each channel's seqs strictly increasing, and when
// everyone has left the source holds no subscription.
func TestConcurrentSources(t *testing.T) {
	t.Parallel()
	src := newSource()
	h := New(Options{Source: src})
	channels := []string{"a", "b", "c"}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for _, ch := range channels {
		wg.Go(func() {
			for seq := uint64(1); ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				src.publish(ch, pub(seq, "e"))
			}
		})
	}
	subs := make([]*recorder, 8)
	var subWG sync.WaitGroup
	for i := range subs {
		subs[i] = &recorder{}
		r := subs[i]
		subWG.Go(func() {
			for j := range 200 {
				ch := channels[(i+j)%len(channels)]
				switch j % 3 {
				case 0, 1:
					h.Subscribe(context.Background(), ch, r, withBacklog())
				case 2:
					h.Unsubscribe(ch, r)
				}
			}
			h.UnsubscribeAll(r)
		})
	}
	subWG.Wait()
	close(stop)
	wg.Wait()
	checkIncreasing(t, subs, channels)
	if a := src.active(); len(a) != 0 {
		t.Fatalf("source subscriptions left: %v", a)
	}
}

func TestMaxPerSubscriber(t *testing.T) {
	t.Parallel()
	h := New(Options{MaxPerSubscriber: 2})
	a, b := &recorder{}, &recorder{}
	subscribe(t, h, "x", a)
	subscribe(t, h, "y", a)
	if _, err := h.Subscribe(context.Background(), "z", a, nil); !errors.Is(err, ErrTooManySubscriptions) {
		t.Fatalf("third subscription = %v, want ErrTooManySubscriptions", err)
	}
	if added, err := h.Subscribe(context.Background(), "x", a, nil); added || err != nil {
		t.Fatalf("repeated subscription at the cap = %v, %v; want false, nil", added, err)
	}
	subscribe(t, h, "z", b) // the cap is per subscriber
	h.Unsubscribe("x", a)
	if !subscribe(t, h, "z", a) {
		t.Fatal("not added after making room")
	}
	if st := h.Stats(); st.Subscriptions != 3 || st.Channels != 2 {
		t.Fatalf("Stats = %+v", st)
	}
}
