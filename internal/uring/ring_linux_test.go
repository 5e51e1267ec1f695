//go:build linux

package uring_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/uring"
)

func TestNopRoundTrip(t *testing.T) {
	t.Parallel()
	r := newRing(t, 8, uring.Options{})
	sqe(t, r).PrepNop(42)
	sqe(t, r).PrepNop(43)
	submit(t, r, 2)
	got := reap(t, r, 2)
	if got[0].UserData != 42 || got[1].UserData != 43 || got[0].Res != 0 || got[1].Res != 0 {
		t.Fatalf("completions %+v; want 42 and 43 with Res 0", got)
	}
	if n := r.CQReady(); n != 0 {
		t.Fatalf("%d completions left after reaping", n)
	}
}

func TestSubmitNothingMakesNoCall(t *testing.T) {
	t.Parallel()
	r := newRing(t, 4, uring.Options{})
	if n, err := r.Submit(); n != 0 || err != nil {
		t.Fatalf("Submit of nothing = %d, %v", n, err)
	}
}

func TestFullSubmissionQueue(t *testing.T) {
	t.Parallel()
	r := newRing(t, 4, uring.Options{})
	if n := r.SQSpace(); n != 4 {
		t.Fatalf("SQSpace = %d, want 4", n)
	}
	for i := range 4 {
		sqe(t, r).PrepNop(uint64(i))
	}
	if s := r.GetSQE(); s != nil {
		t.Fatal("GetSQE on a full queue returned an entry")
	}
	submit(t, r, 4)
	if s := r.GetSQE(); s == nil {
		t.Fatal("GetSQE after Submit returned nil")
	} else {
		s.PrepNop(4)
	}
	submit(t, r, 1)
	reap(t, r, 5)
}

// TestCompletionQueueOverflow: completions past a full queue wait in the
// kernel (IORING_FEAT_NODROP) and arrive, in order, once entries are
// reaped and the ring is entered again; none is lost.
func TestCompletionQueueOverflow(t *testing.T) {
	t.Parallel()
	r := newRing(t, 4, uring.Options{CQEntries: 4})
	for round := range 2 {
		for i := range 4 {
			sqe(t, r).PrepNop(uint64(round*4 + i))
		}
		submit(t, r, 4)
	}
	if n := r.CQReady(); n != 4 {
		t.Fatalf("CQReady = %d with a queue of 4, want 4", n)
	}
	if !r.CQOverflowed() {
		t.Fatal("CQOverflowed is false with 4 completions waiting in the kernel")
	}
	var got []uring.CQE
	for len(got) < 8 {
		c := r.Completions()
		got = append(got, c...)
		r.CQAdvance(uint32(len(c)))
		if _, err := r.SubmitAndWait(0); err != nil { // moves the overflow in
			t.Fatal(err)
		}
		if len(c) == 0 && r.CQReady() == 0 {
			t.Fatalf("completions lost: got %+v", got)
		}
	}
	for i, c := range got {
		if c.UserData != uint64(i) {
			t.Fatalf("completion %d has user data %d: %+v", i, c.UserData, got)
		}
	}
	if r.CQOverflowed() || r.CQLost() != 0 {
		t.Fatalf("after reaping: overflowed %v, lost %d", r.CQOverflowed(), r.CQLost())
	}
}

// TestSetupRejectsBadSizes: sizes the kernel would refuse are reported
// as such, not as a kernel without io_uring.
func TestSetupRejectsBadSizes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ entries, cq uint32 }{{0, 0}, {8, 4}} {
		r, err := uring.Setup(c.entries, uring.Options{CQEntries: c.cq})
		if err == nil {
			r.Close()
			t.Errorf("Setup(%d, CQEntries %d) succeeded", c.entries, c.cq)
		} else if errors.Is(err, uring.ErrUnsupported) {
			t.Errorf("Setup(%d, CQEntries %d): %v, which claims io_uring is unsupported", c.entries, c.cq, err)
		}
	}
}

// openFiles counts this process's descriptors and io_uring mappings.
func openFiles(t *testing.T) (fds, maps int) {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents), strings.Count(string(b), "io_uring")
}

// TestCloseReleasesEverything: a ring with a buffer ring and a Wait
// eventfd leaves no descriptor and no mapping behind. Not parallel: it
// counts the whole process's descriptors.
func TestCloseReleasesEverything(t *testing.T) {
	use := func() *uring.Ring {
		r, err := uring.Setup(8, uring.Options{})
		if errors.Is(err, uring.ErrUnsupported) {
			t.Skipf("skipped: the kernel refuses io_uring: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.NewBufRing(1, 8, 256); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Wait(time.Now().Add(time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		return r
	}
	use().Close() // the first Wait also starts Go's poller, which keeps its descriptors
	fds, maps := openFiles(t)
	r := use()
	if f, m := openFiles(t); f <= fds || m <= maps {
		t.Fatalf("while open: %d descriptors, %d io_uring mappings, no more than before (%d, %d): the count sees nothing", f, m, fds, maps)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if f, m := openFiles(t); f != fds || m != maps {
		t.Fatalf("after Close: %d descriptors, %d io_uring mappings; before Setup: %d, %d", f, m, fds, maps)
	}
}
