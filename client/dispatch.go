package client

import "sync"

// dispatcher runs jobs (handler and OnState calls) one at a time, in the
// order they were pushed, on a goroutine of its own, so that neither the
// connection's reader nor the supervisor ever waits for user code. The
// queue is unbounded: a slow handler costs memory, not a stalled
// connection. push and stop are safe for concurrent use.
type dispatcher struct {
	mu       sync.Mutex // guards jobs and stopping
	jobs     []func()
	stopping bool
	wake     chan struct{} // capacity 1: a push since the last look
	done     chan struct{} // closed when run returns
}

func newDispatcher() *dispatcher {
	d := &dispatcher{wake: make(chan struct{}, 1), done: make(chan struct{})}
	go d.run()
	return d
}

// push queues f. It does nothing once stop was called.
func (d *dispatcher) push(f func()) {
	d.mu.Lock()
	if d.stopping {
		d.mu.Unlock()
		return
	}
	d.jobs = append(d.jobs, f)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// stop queues last, lets every queued job run and waits for the
// goroutine to end. It must not be called from a job.
func (d *dispatcher) stop(last func()) {
	d.push(last)
	d.mu.Lock()
	d.stopping = true
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	<-d.done
}

func (d *dispatcher) run() {
	defer close(d.done)
	for {
		d.mu.Lock()
		jobs, stopping := d.jobs, d.stopping
		d.jobs = nil
		d.mu.Unlock()
		for i, f := range jobs {
			f()
			jobs[i] = nil
		}
		if len(jobs) > 0 {
			continue
		}
		if stopping {
			return
		}
		<-d.wake
	}
}
