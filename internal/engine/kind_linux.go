//go:build linux

package engine

import (
	"sync"

	"github.com/wsgate/wsgate/internal/uring"
)

const epollSupported = true

// uringSupported reports whether the kernel sets up an io_uring ring
// (it may refuse: too old, kernel.io_uring_disabled, seccomp). It asks
// once per process and remembers the answer.
var uringSupported = sync.OnceValue(func() bool {
	r, err := uring.Setup(2, uring.Options{})
	if err != nil {
		return false
	}
	r.Close()
	return true
})
