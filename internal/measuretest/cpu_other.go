//go:build !unix

package measuretest

// CPUNanos is 0 where getrusage(2) is missing.
func CPUNanos() int64 { return 0 }
