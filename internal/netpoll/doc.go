// Package netpoll wraps the Linux system calls an event loop needs: an
// epoll instance with an eventfd to wake it, and non-blocking read,
// write, writev, shutdown and close on raw file descriptors. It holds no
// policy and starts no goroutines; internal/engine builds its epoll loops
// on it.
//
// Everything but this file is //go:build linux: on other systems the
// package is empty.
package netpoll
