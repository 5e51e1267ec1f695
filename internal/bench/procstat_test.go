package bench

import (
	"os"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        string
		user, sys time.Duration
		wantErr   bool
	}{
		{name: "plain", in: "1234 (wsgate) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 8 0 100 0 0",
			user: 2500 * time.Millisecond, sys: 750 * time.Millisecond},
		{name: "spaces and parens in name", in: "7 (a b) (c)) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 0 0",
			user: 30 * time.Millisecond, sys: 40 * time.Millisecond},
		{name: "no name", in: "1234 wsgate S 1", wantErr: true},
		{name: "short", in: "1 (x) S 1 2 3", wantErr: true},
		{name: "not a number", in: "1 (x) S 1 1 1 0 -1 0 0 0 0 0 x 4 0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, s, err := parseStat([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && (u != tt.user || s != tt.sys) {
				t.Fatalf("got %v + %v, want %v + %v", u, s, tt.user, tt.sys)
			}
		})
	}
}

func TestParseStatusRSS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "Name:\twsgate\nVmPeak:\t  9000 kB\nVmRSS:\t   17512 kB\nThreads:\t8\n", want: 17512 << 10},
		{in: "Name:\tzombie\nState:\tZ (zombie)\n", want: 0},
		{in: "VmRSS:\t12 MB\n", wantErr: true},
		{in: "VmRSS:\tlots kB\n", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseStatusRSS([]byte(tt.in))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseStatusRSS(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestReadProcSelf(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	p, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if p.RSS <= 0 || p.CPU() < 0 {
		t.Fatalf("readProc(self) = %+v", p)
	}
	if _, err := readProc(1 << 30); err == nil {
		t.Fatal("readProc of a missing process succeeded")
	}
}
