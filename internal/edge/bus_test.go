package edge

import (
	"sync"
	"sync/atomic"
)

// memBus is a Bus over the process's memory, the cluster of a test: an
// announcement reaches every watcher of the bus before Announce returns,
// in the order announcements were made. Each node joins through a link,
// which the test can cut to make the node vanish as a crashed one would.
type memBus struct {
	mu       sync.Mutex // held while delivering, so every watcher sees one order
	watchers map[*func([]byte)]struct{}
}

func newMemBus() *memBus { return &memBus{watchers: make(map[*func([]byte)]struct{})} }

// link is one node's connection to a memBus.
type link struct {
	bus *memBus
	cut atomic.Bool // the node's announcements are lost
}

func (b *memBus) join() *link { return &link{bus: b} }

func (l *link) Announce(data []byte) error {
	if l.cut.Load() {
		return nil // lost on the way, as on a network that failed
	}
	l.bus.mu.Lock()
	defer l.bus.mu.Unlock()
	for w := range l.bus.watchers {
		(*w)(data)
	}
	return nil
}

func (l *link) Watch(deliver func([]byte)) (func(), error) {
	w := &deliver
	l.bus.mu.Lock()
	l.bus.watchers[w] = struct{}{}
	l.bus.mu.Unlock()
	return func() {
		l.bus.mu.Lock()
		delete(l.bus.watchers, w)
		l.bus.mu.Unlock()
	}, nil
}
