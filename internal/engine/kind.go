package engine

import "strconv"

// Kind selects how an Engine runs its connections.
type Kind uint8

const (
	// Auto is Epoll where it is supported (Linux) and Goroutine elsewhere.
	Auto Kind = iota
	// Goroutine runs each connection on two goroutines of its own, one
	// reading and one writing. It works on every system and with any
	// net.Conn, TLS included.
	Goroutine
	// Epoll hands each plaintext TCP connection to one of GOMAXPROCS event
	// loops: an idle connection holds no goroutine and no buffer. Linux
	// only; connections that are not *net.TCPConn (TLS) still get the
	// goroutine engine.
	Epoll
	// Uring is Epoll's loops driven by io_uring instead of epoll: each
	// loop has a ring, receives with one multishot recv per connection
	// into the loop's provided buffers (an idle connection still holds no
	// buffer), and sends what the loop writes (replies, WriteFrame's
	// fan-out) as requests that leave together, one io_uring_enter per
	// loop turn. Other goroutines' writes go to the socket directly, as
	// under Epoll. Linux only, where the kernel allows io_uring; New
	// falls back to Epoll, with one log line, where it does not.
	Uring
)

// String returns "auto", "goroutine", "epoll", "uring" or "Kind(N)".
func (k Kind) String() string {
	switch k {
	case Auto:
		return "auto"
	case Goroutine:
		return "goroutine"
	case Epoll:
		return "epoll"
	case Uring:
		return "uring"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Supported reports whether k can run on this system. For Uring it sets
// up a ring, once per process, and reports whether the kernel took it.
func (k Kind) Supported() bool {
	switch k {
	case Auto, Goroutine:
		return true
	case Epoll:
		return epollSupported
	case Uring:
		return uringSupported()
	}
	return false
}

// resolve turns Auto into the kind it stands for here.
func (k Kind) resolve() Kind {
	if k == Auto {
		if epollSupported {
			return Epoll
		}
		return Goroutine
	}
	return k
}
