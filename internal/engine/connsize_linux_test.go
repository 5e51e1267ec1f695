//go:build linux

package engine

import (
	"testing"
	"unsafe"
)

// TestIdleConnSize guards what an idle connection costs under epoll and
// uring: one epollConn, in Go's 144-byte size class. What only some
// connections use goes in connMore, made on first use.
func TestIdleConnSize(t *testing.T) {
	if n := unsafe.Sizeof(epollConn{}); n > 144 {
		t.Fatalf("epollConn is %d bytes, want at most 144: move what idle connections do not use to connMore", n)
	}
}
