package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// userHZ is the kernel's USER_HZ, the unit of the CPU times in
// /proc/PID/stat: 100 on every Linux architecture Go supports.
const userHZ = 100

// procSample is one reading of a process's CPU time and memory.
type procSample struct {
	User, Sys time.Duration // CPU time since the process started, 10 ms resolution
	RSS       int64         // resident set size in bytes (VmRSS)
}

// CPU is user plus system time.
func (p procSample) CPU() time.Duration { return p.User + p.Sys }

// readProc samples process pid from /proc.
func readProc(pid int) (procSample, error) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procSample{}, fmt.Errorf("bench: server pid %d: %w", pid, err)
	}
	user, sys, err := parseStat(stat)
	if err != nil {
		return procSample{}, fmt.Errorf("bench: /proc/%d/stat: %w", pid, err)
	}
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return procSample{}, fmt.Errorf("bench: server pid %d: %w", pid, err)
	}
	rss, err := parseStatusRSS(status)
	if err != nil {
		return procSample{}, fmt.Errorf("bench: /proc/%d/status: %w", pid, err)
	}
	return procSample{User: user, Sys: sys, RSS: rss}, nil
}

// parseStat reads utime and stime (fields 14 and 15) from the contents
// of /proc/PID/stat. The command name (field 2) is in parentheses and may
// itself hold spaces and parentheses, so fields are counted from the
// last ')'.
func parseStat(b []byte) (user, sys time.Duration, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errors.New("no command name")
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, 0, errors.New("too few fields")
	}
	u, err1 := strconv.ParseUint(string(f[11]), 10, 63)
	s, err2 := strconv.ParseUint(string(f[12]), 10, 63)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, err
	}
	tick := time.Second / userHZ
	return time.Duration(u) * tick, time.Duration(s) * tick, nil
}

// parseStatusRSS reads VmRSS, in bytes, from the contents of
// /proc/PID/status. A process without memory (a zombie) has none: 0.
func parseStatusRSS(b []byte) (int64, error) {
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("VmRSS line %q", bytes.TrimSpace(line))
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, err
		}
		return kb << 10, nil
	}
	return 0, nil
}
