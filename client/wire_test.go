package client

import (
	"os"
	"path/filepath"
	"testing"
)

func TestBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"http://a:8080", "http://a:8080", true},
		{"https://a.example.com/", "https://a.example.com", true},
		{"ws://a:1", "http://a:1", true},
		{"wss://a/base/", "https://a/base", true},
		{" http://a/x?q=1#f ", "http://a/x", true},
		{"ftp://a", "", false},
		{"a:8080", "", false},
		{"http://", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := baseURL(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("baseURL(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestWSURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"http://a:8080", "ws://a:8080/ws"},
		{"https://a", "wss://a/ws"},
		{"https://a/base", "wss://a/base/ws"},
	}
	for _, tt := range tests {
		if got := wsURL(tt.in); got != tt.want {
			t.Errorf("wsURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStateFileRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "node.json")
	if got := loadNode(path); got != "" {
		t.Fatalf("loadNode of a missing file = %q", got)
	}
	if err := saveNode(path, "https://a"); err != nil {
		t.Fatal(err)
	}
	if err := saveNode(path, "https://b"); err != nil {
		t.Fatal(err)
	}
	if got := loadNode(path); got != "https://b" {
		t.Fatalf("loadNode = %q, want https://b", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files in the directory, want 1: no temporary file left", len(entries))
	}
	os.WriteFile(path, []byte("{garbage"), 0o600)
	if got := loadNode(path); got != "" {
		t.Errorf("loadNode of garbage = %q", got)
	}
	if got := loadNode(""); got != "" {
		t.Errorf(`loadNode("") = %q`, got)
	}
	if err := saveNode(filepath.Join(dir, "no", "such", "dir"), "x"); err == nil {
		t.Error("saveNode into a missing directory succeeded")
	}
}
