//go:build unix

package measuretest

import "syscall"

// CPUNanos is the CPU time (user and system) this process has used, in
// nanoseconds.
func CPUNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
