package natsbroker

import "testing"

func TestRedact(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://user:secret@a:4222,tls://b:4222", "nats://***@a:4222,tls://b:4222"},
		{"nats://token@a:4222", "nats://***@a:4222"},
		{"a:4222", "a:4222"},
	} {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
