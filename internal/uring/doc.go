// Package uring is a small io_uring binding in pure Go (no cgo): it sets
// up a ring, prepares and submits the requests a network event loop needs
// (read, recv, multishot recv into provided buffers, writev, send, poll,
// cancel), reaps their completions from shared memory without a system
// call, and waits for completions parked in Go's runtime poller (Wait).
// It holds no policy and starts no goroutines; it is the ground
// for an io_uring engine beside internal/netpoll's epoll.
//
// Concurrency: a Ring and the BufRings registered on it belong to one
// goroutine, the loop that owns them; no method but Wake may be called
// from another goroutine.
//
// Memory: buffers handed to a prepared request are read or written by the
// kernel until the request's completion is reaped. The Ring does not keep
// them alive: the caller does, and they must be heap or mmap memory (a Go
// stack may move). Completions handed out by the Ring are borrowed until
// CQAdvance.
//
// The package is Linux only (it does not depend on byte order); elsewhere
// it is empty. A kernel that refuses io_uring (too old,
// disabled by sysctl, or forbidden by seccomp) makes Setup fail with an
// error wrapping ErrUnsupported, so the caller can fall back to epoll.
package uring
