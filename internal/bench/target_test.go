package bench

import (
	"context"
	"strings"
	"testing"
)

func TestResolveTarget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url         string
		allowRemote bool
		sources     int
		wantSources int
		wantErr     string
	}{
		{url: "ws://127.0.0.1:8080/echo", sources: 8, wantSources: 8},
		{url: "ws://127.0.0.1:8080/echo", sources: 1, wantSources: 0},
		{url: "ws://127.3.4.5:8080/echo", sources: 3, wantSources: 3},
		{url: "ws://[::1]:8080/echo", sources: 8, wantSources: 0},
		{url: "ws://10.0.0.1:8080/echo", sources: 8, wantErr: "not a loopback address"},
		{url: "ws://192.168.1.1/echo", sources: 8, wantErr: "--allow-remote"},
		{url: "ws://10.0.0.1:8080/echo", allowRemote: true, sources: 8, wantSources: 0},
		{url: "ws://127.0.0.1:8080/ws,ws://127.0.0.1:8081/ws", sources: 4, wantSources: 4},
		{url: "ws://127.0.0.1:8080/ws,ws://[::1]:8081/ws", sources: 4, wantSources: 0},
		{url: "ws://127.0.0.1:8080/ws,ws://10.0.0.1:8081/ws", sources: 4, wantErr: "not a loopback address"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			tg, err := resolveTarget(context.Background(), strings.Split(tt.url, ","), tt.allowRemote, tt.sources)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(tg.sources) != tt.wantSources {
				t.Fatalf("sources = %v, want %d", tg.sources, tt.wantSources)
			}
			urls := strings.Split(tt.url, ",")
			for i := range 2 * len(urls) {
				if got := tg.urlFor(i); got != urls[i%len(urls)] {
					t.Errorf("connection %d goes to %s, want %s", i, got, urls[i%len(urls)])
				}
			}
			if got := tg.first().urls; len(got) != 1 || got[0] != urls[0] {
				t.Errorf("first() = %v, want [%s]", got, urls[0])
			}
			if tt.wantSources > 0 {
				if got := tg.sources[0].String(); got != "127.0.0.1" {
					t.Errorf("first source %s", got)
				}
				d := tg.dialer(tt.wantSources + 1)
				if d.LocalAddr == nil || d.LocalAddr.String() != "127.0.0.2:0" {
					t.Errorf("dialer %d binds %v, want 127.0.0.2:0", tt.wantSources+1, d.LocalAddr)
				}
			}
		})
	}
}
