package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/wsgate/wsgate/internal/fdlimit"
)

// Sentinels for the resource limits a connection storm can hit. The
// errors returned wrap one of them and say what to do in plain words.
var (
	// ErrOpenFileLimit: socket() failed with EMFILE or ENFILE.
	ErrOpenFileLimit = errors.New("bench: open-file limit reached")
	// ErrPortsExhausted: no local port was left (EADDRNOTAVAIL).
	ErrPortsExhausted = errors.New("bench: local ports exhausted")
	// ErrServerStalled: the server stopped completing handshakes in time.
	ErrServerStalled = errors.New("bench: server stopped accepting")
)

// limitError is a limit hit while connecting: its message is advice for
// a person, and it matches one of the sentinels with errors.Is.
type limitError struct {
	kind error // ErrOpenFileLimit, ErrPortsExhausted or ErrServerStalled
	msg  string
}

func (e *limitError) Error() string { return "bench: " + e.msg }
func (e *limitError) Unwrap() error { return e.kind }

// explainDialError turns a failed dial after opened successful ones into
// an error that names the limit hit, or returns nil when err is not
// about a limit.
func explainDialError(err error, opened int) error {
	switch {
	case errors.Is(err, syscall.EMFILE):
		return &limitError{ErrOpenFileLimit, fmt.Sprintf("hit the open-file limit (ulimit -n = %d) at %s connections; run several bench processes or raise the limit",
			fdlimit.Open(), commas(int64(opened)))}
	case errors.Is(err, syscall.ENFILE):
		return &limitError{ErrOpenFileLimit, fmt.Sprintf("hit the system-wide open-file limit (fs.file-max) at %s connections; run fewer connections or raise fs.file-max",
			commas(int64(opened)))}
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return &limitError{ErrPortsExhausted, fmt.Sprintf("no free local port at %s connections (net.ipv4.ip_local_port_range is %s for each source address); raise --source-ips or run fewer connections",
			commas(int64(opened)), portRange())}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		if opened > 0 {
			return &limitError{ErrServerStalled, fmt.Sprintf("the server stopped completing handshakes at %s connections (%s); it may have hit its own open-file limit or listen backlog",
				commas(int64(opened)), shortErr(err))}
		}
	}
	return nil
}

// portRange reads the kernel's ephemeral port range for messages.
func portRange() string {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return "unknown"
	}
	var lo, hi int
	if _, err := fmt.Sscan(string(b), &lo, &hi); err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%d–%d", lo, hi)
}

// commas formats n with thousands separators: 18950 → "18,950".
func commas(n int64) string {
	s := fmt.Sprint(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
