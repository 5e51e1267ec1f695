// Package fdlimit reads the process's limit on open files, which bounds
// how many connections a process can hold: the server sizes its
// connection caps from it and the load tool explains a failed dial with
// it.
package fdlimit

// Open returns the process's soft limit on open files (RLIMIT_NOFILE), or
// 0 where it cannot be read.
func Open() uint64 { return open() }
