package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestExplainDialError(t *testing.T) {
	t.Parallel()
	wrap := func(errno syscall.Errno) error {
		return fmt.Errorf("ws: dial: %w", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", errno)})
	}
	tests := []struct {
		err    error
		opened int
		is     error
		want   string
	}{
		{wrap(syscall.EMFILE), 18950, ErrOpenFileLimit, "hit the open-file limit (ulimit -n = "},
		{wrap(syscall.EMFILE), 18950, ErrOpenFileLimit, "at 18,950 connections; run several bench processes or raise the limit"},
		{wrap(syscall.ENFILE), 5, ErrOpenFileLimit, "system-wide"},
		{wrap(syscall.EADDRNOTAVAIL), 28000, ErrPortsExhausted, "no free local port at 28,000 connections"},
		{wrap(syscall.ECONNREFUSED), 100, ErrServerStalled, "at 100 connections"},
		{context.DeadlineExceeded, 7, ErrServerStalled, "open-file limit"},
		{wrap(syscall.ECONNREFUSED), 0, nil, ""},
		{errors.New("ws: bad handshake"), 10, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			t.Parallel()
			got := explainDialError(tt.err, tt.opened)
			if tt.is == nil {
				if got != nil {
					t.Fatalf("got %v, want nil", got)
				}
				return
			}
			if !errors.Is(got, tt.is) || !strings.Contains(got.Error(), tt.want) {
				t.Fatalf("got %v, want %v containing %q", got, tt.is, tt.want)
			}
		})
	}
}

func TestCommas(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 18950: "18,950", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := commas(n); got != want {
			t.Errorf("commas(%d) = %q, want %q", n, got, want)
		}
	}
}
