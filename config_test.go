package wsgate_test

import (
	"io"
	"log/slog"
	"runtime"
	"testing"

	"github.com/wsgate/wsgate"
)

func TestEngineKindText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want wsgate.EngineKind
		ok   bool
	}{
		{"auto", wsgate.EngineAuto, true},
		{"goroutine", wsgate.EngineGoroutine, true},
		{"epoll", wsgate.EngineEpoll, true},
		{"uring", wsgate.EngineUring, true},
		{"", 0, false},
		{"Epoll", 0, false},
		{"threads", 0, false},
	}
	for _, tt := range tests {
		var k wsgate.EngineKind
		err := k.UnmarshalText([]byte(tt.text))
		if (err == nil) != tt.ok || k != tt.want {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v, ok %v", tt.text, k, err, tt.want, tt.ok)
		}
		if tt.ok {
			if b, _ := k.MarshalText(); string(b) != tt.text {
				t.Errorf("MarshalText(%v) = %q, want %q", k, b, tt.text)
			}
		}
	}
	if got := wsgate.EngineKind(9).String(); got != "EngineKind(9)" {
		t.Errorf("String of an unknown kind = %q", got)
	}
}

func TestEngineKindSupported(t *testing.T) {
	t.Parallel()
	linux := runtime.GOOS == "linux"
	for _, tt := range []struct {
		k    wsgate.EngineKind
		want bool
	}{
		{wsgate.EngineAuto, true},
		{wsgate.EngineGoroutine, true},
		{wsgate.EngineEpoll, linux},
		{wsgate.EngineKind(9), false},
	} {
		if got := tt.k.Supported(); got != tt.want {
			t.Errorf("%v.Supported() = %v, want %v", tt.k, got, tt.want)
		}
		srv, err := wsgate.New(wsgate.Config{Engine: tt.k})
		if (err == nil) != tt.want {
			t.Errorf("New with engine %v: err = %v, want success %v", tt.k, err, tt.want)
		}
		if srv != nil {
			srv.Close()
		}
	}
	// EngineUring is Supported where the kernel allows io_uring; on Linux
	// New takes it either way (it falls back to epoll with a log line).
	srv, err := wsgate.New(wsgate.Config{Engine: wsgate.EngineUring, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if (err == nil) != linux || !linux && wsgate.EngineUring.Supported() {
		t.Errorf("New with engine uring: err = %v, Supported %v, on Linux %v", err, wsgate.EngineUring.Supported(), linux)
	}
	if srv != nil {
		srv.Close()
	}
}
