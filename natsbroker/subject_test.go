package natsbroker

import (
	"strings"
	"testing"
)

func TestEncodeToken(t *testing.T) {
	t.Parallel()
	tests := []struct{ channel, token string }{
		{"ticks", "ticks"},
		{"market.ACME", "market%2EACME"},
		{"a..b", "a%2E%2Eb"},
		{".", "%2E"},
		{"chat/room-1_x:y", "chat/room-1_x:y"},
		{"$wsgate.cache.invalidate", "%24wsgate%2Ecache%2Einvalidate"},
		{"100%", "100%25"},
		{"a b*>", "a%20b%2A%3E"},
		{"é", "%C3%A9"},
		{"", "%"},
	}
	for _, tt := range tests {
		if got := encodeToken(tt.channel); got != tt.token {
			t.Errorf("encodeToken(%q) = %q, want %q", tt.channel, got, tt.token)
		}
		if got, err := decodeToken(tt.token); err != nil || got != tt.channel {
			t.Errorf("decodeToken(%q) = %q, %v; want %q", tt.token, got, err, tt.channel)
		}
	}
}

// TestDecodeTokenRefuses: only what encodeToken makes decodes, so no two
// tokens name one channel.
func TestDecodeTokenRefuses(t *testing.T) {
	t.Parallel()
	for _, tok := range []string{"", "a.b", "%2e", "%41", "%2", "a%", "%G0", "a b", "*", ">", "%%2E"} {
		if got, err := decodeToken(tok); err == nil {
			t.Errorf("decodeToken(%q) = %q, want an error", tok, got)
		}
	}
}

// validToken reports whether tok is one valid literal NATS subject
// token: not empty, printable ASCII, no '.', no wildcard.
func validToken(tok string) bool {
	if tok == "" || tok == "*" || tok == ">" {
		return false
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c <= ' ' || c >= 0x7f || c == '.' || c == '*' || c == '>' {
			return false
		}
	}
	return true
}

func FuzzToken(f *testing.F) {
	for _, s := range []string{"ticks", "a..b", "$wsgate.cache.invalidate", "%25", "", "\x00\xff", "x/y:z-_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok := encodeToken(s)
		if !validToken(tok) {
			t.Fatalf("encodeToken(%q) = %q: not a valid subject token", s, tok)
		}
		back, err := decodeToken(tok)
		if err != nil || back != s {
			t.Fatalf("decodeToken(encodeToken(%q)) = %q, %v", s, back, err)
		}
		// The other way: whatever decodes encodes back to itself, so the
		// map is one to one on both sides.
		if name, err := decodeToken(s); err == nil && encodeToken(name) != s {
			t.Fatalf("decodeToken(%q) = %q, which encodes to %q", s, name, encodeToken(name))
		}
		if strings.Contains(tok, "..") {
			t.Fatalf("empty token in %q", tok)
		}
	})
}
