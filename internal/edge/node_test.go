package edge

import (
	"strings"
	"testing"
)

func TestCheckIdentity(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", MaxIDLen)
	tests := []struct {
		name  string
		check func(string) error
		in    string
		ok    bool
	}{
		{"id", CheckID, "web1-3f9a2c", true},
		{"id with dot and underscore", CheckID, "eu_1.web", true},
		{"id at the limit", CheckID, long, true},
		{"id empty", CheckID, "", false},
		{"id too long", CheckID, long + "a", false},
		{"id with space", CheckID, "web 1", false},
		{"id with quote", CheckID, `web"1`, false},
		{"id with non-ASCII", CheckID, "wéb1", false},
		{"id with a NATS wildcard", CheckID, "web*", false},
		{"region", CheckRegion, "eu-west", true},
		{"region empty", CheckRegion, "", true},
		{"region too long", CheckRegion, long + "a", false},
		{"region with slash", CheckRegion, "eu/west", false},
		{"url empty", CheckURL, "", true},
		{"url http", CheckURL, "http://web1:8080", true},
		{"url https with path", CheckURL, "https://eu.example.com/gate", true},
		{"url IPv6", CheckURL, "http://[::1]:8080", true},
		{"url ws scheme", CheckURL, "ws://web1:8080", false},
		{"url relative", CheckURL, "/web1", false},
		{"url without host", CheckURL, "http://", false},
		{"url with user", CheckURL, "http://u:p@web1", false},
		{"url with query", CheckURL, "http://web1/?a=1", false},
		{"url with empty query", CheckURL, "http://web1/?", false},
		{"url with fragment", CheckURL, "http://web1/#x", false},
		{"url with control character", CheckURL, "http://web1/\x00", false},
		{"url too long", CheckURL, "http://web1/" + strings.Repeat("a", MaxURLLen), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.check(tt.in); (err == nil) != tt.ok {
				t.Errorf("check(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}

func TestDeriveID(t *testing.T) {
	t.Parallel()
	tests := []struct{ hostname, prefix string }{
		{"web1", "web1-"},
		{"web1.eu.example.com", "web1-"},
		{"Web_1", "Web_1-"},
		{"my host!", "my-host-"},
		{"", "node-"},
		{".example.com", "node-"},
		{"---", "node-"},
		{strings.Repeat("h", 100), strings.Repeat("h", 40) + "-"},
	}
	for _, tt := range tests {
		t.Run(tt.hostname, func(t *testing.T) {
			t.Parallel()
			id := DeriveID(tt.hostname)
			if !strings.HasPrefix(id, tt.prefix) || len(id) != len(tt.prefix)+suffixLen {
				t.Errorf("DeriveID(%q) = %q, want %q and %d hex digits", tt.hostname, id, tt.prefix, suffixLen)
			}
			if err := CheckID(id); err != nil {
				t.Error(err)
			}
		})
	}
	if a, b := DeriveID("web1"), DeriveID("web1"); a == b {
		t.Errorf("two ids derived on one host are both %q", a)
	}
}
