package deadline

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestAcquireSharesWithinGrain(t *testing.T) {
	t.Parallel()
	s := New(context.Background(), time.Hour) // grain 100 ms
	a := s.Acquire()
	b := s.Acquire()
	if a != b {
		t.Fatal("two leases taken at once differ")
	}
	dl, ok := a.Context().Deadline()
	if !ok {
		t.Fatal("no deadline")
	}
	if left := time.Until(dl); left < time.Hour-time.Second || left > time.Hour+maxGrain {
		t.Fatalf("deadline in %v, want an hour to an hour and %v", left, maxGrain)
	}
	a.Release()
	b.Release()
	if a.Context().Err() != nil {
		t.Fatal("the lease handed out now ended when its users released it")
	}
}

func TestLastReleaseOfOldLeaseCancels(t *testing.T) {
	t.Parallel()
	s := New(context.Background(), 100*time.Millisecond) // grain 1 ms
	old := s.Acquire()
	time.Sleep(5 * time.Millisecond)
	cur := s.Acquire()
	if cur == old {
		t.Fatal("a lease was handed out past its grain")
	}
	if old.Context().Err() != nil {
		t.Fatal("an old lease ended while still held")
	}
	old.Release()
	if !errors.Is(old.Context().Err(), context.Canceled) {
		t.Fatalf("old lease after its last release: %v, want canceled", old.Context().Err())
	}
	time.Sleep(5 * time.Millisecond)
	cur.Release()
	next := s.Acquire() // replaces cur, which nobody holds
	defer next.Release()
	if !errors.Is(cur.Context().Err(), context.Canceled) {
		t.Fatalf("replaced idle lease: %v, want canceled", cur.Context().Err())
	}
}

func TestDeadlineAndParent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		timeout time.Duration
		cancel  bool // cancel the parent
		want    error
	}{
		{"timeout", 20 * time.Millisecond, false, context.DeadlineExceeded},
		{"parent ends", time.Hour, true, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			parent, cancel := context.WithCancel(context.Background())
			defer cancel()
			s := New(parent, tt.timeout)
			start := time.Now()
			l := s.Acquire()
			defer l.Release()
			if tt.cancel {
				cancel()
			}
			select {
			case <-l.Context().Done():
			case <-time.After(10 * time.Second):
				t.Fatal("the lease's context never ended")
			}
			if !errors.Is(l.Context().Err(), tt.want) {
				t.Fatalf("err %v, want %v", l.Context().Err(), tt.want)
			}
			if !tt.cancel && time.Since(start) < tt.timeout {
				t.Fatalf("ended after %v, before its timeout %v", time.Since(start), tt.timeout)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s := New(context.Background(), 50*time.Millisecond)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 2000 {
				l := s.Acquire()
				if err := l.Context().Err(); err != nil {
					t.Errorf("a lease just taken has ended: %v", err)
					return
				}
				l.Release()
			}
		})
	}
	wg.Wait()
}

func BenchmarkAcquireRelease(b *testing.B) {
	s := New(context.Background(), 10*time.Second)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l := s.Acquire()
			_ = l.Context().Done()
			l.Release()
		}
	})
}

func BenchmarkWithTimeout(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = ctx.Done()
			cancel()
		}
	})
}
