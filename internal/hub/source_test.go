package hub

import (
	"errors"
	"maps"
	"sync"
)

// source is a Source in memory, for tests: publish delivers to every
// subscription of a channel, in order, one publication at a time. Its
// Subscribe on a channel with a gate blocks until the gate is closed, and
// fails with fail when set.
type source struct {
	mu       sync.Mutex // serialises publish, Subscribe and cancel per source
	subs     map[string]map[*func(Publication)]bool
	makes    map[string]int
	delivers map[string]func(Publication) // the last deliver function given for each channel

	gateMu sync.Mutex
	gates  map[string]chan struct{} // Subscribe on a key waits for its value to close
	fail   error
	called chan string // when not nil, receives each channel Subscribe is called for
}

func newSource() *source {
	return &source{
		subs:     make(map[string]map[*func(Publication)]bool),
		makes:    make(map[string]int),
		delivers: make(map[string]func(Publication)),
		gates:    make(map[string]chan struct{}),
	}
}

// setGate makes Subscribe on channel wait until the returned function is called.
func (s *source) setGate(channel string) (release func()) {
	g := make(chan struct{})
	s.gateMu.Lock()
	s.gates[channel] = g
	s.gateMu.Unlock()
	return sync.OnceFunc(func() { close(g) })
}

func (s *source) setFail(err error) {
	s.gateMu.Lock()
	s.fail = err
	s.gateMu.Unlock()
}

func (s *source) Subscribe(channel string, deliver func(Publication)) (func(), error) {
	s.gateMu.Lock()
	gate, fail, called := s.gates[channel], s.fail, s.called
	s.gateMu.Unlock()
	if called != nil {
		called <- channel
	}
	if gate != nil {
		<-gate
	}
	if fail != nil {
		return nil, fail
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs[channel] == nil {
		s.subs[channel] = make(map[*func(Publication)]bool)
	}
	d := &deliver
	s.subs[channel][d] = true
	s.makes[channel]++
	s.delivers[channel] = deliver
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.subs[channel], d)
			if len(s.subs[channel]) == 0 {
				delete(s.subs, channel)
			}
			s.mu.Unlock()
		})
	}, nil
}

// publish delivers p to every subscription of channel.
func (s *source) publish(channel string, p Publication) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for d := range s.subs[channel] {
		(*d)(p)
	}
}

// active returns the channels subscribed now and how many subscriptions each has.
func (s *source) active() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.subs))
	for ch, set := range s.subs {
		out[ch] = len(set)
	}
	return out
}

// deliverFunc returns the last deliver function the hub gave for channel.
func (s *source) deliverFunc(channel string) func(Publication) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delivers[channel]
}

// made returns how many subscriptions to channel were ever made.
func (s *source) made(channel string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.makes)[channel]
}

var errDown = errors.New("source down")
