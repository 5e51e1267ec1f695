//go:build !linux

package engine

const epollSupported = false

func uringSupported() bool { return false }

// newLoops is never called here: New accepts only a Kind that is
// Supported, and Auto resolves to Goroutine.
func newLoops(*Engine) loopGroup { return nil }
