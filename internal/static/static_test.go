package static

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// tree lays out a served directory beside a secret outside it.
func tree(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	dir := filepath.Join(base, "site")
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("secret.txt", "outside")
	write("site/index.html", "home")
	write("site/app.js", "console.log(1)")
	write("site/docs/index.html", "docs")
	write("site/empty/keep.txt", "x")
	write("site/.env", "KEY=1")
	write("site/.git/config", "[core]")
	write("site/sub/.hidden", "h")
	link := func(target, name string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	link("/etc/passwd", "passwd")
	link("/etc", "etc")
	link("../secret.txt", "secret")
	link("app.js", "alias.js") // stays inside: allowed
	return dir
}

func TestServe(t *testing.T) {
	t.Parallel()
	h, err := New(tree(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/", 200, "home"},
		{"GET", "/index.html", 200, "home"},
		{"GET", "/app.js", 200, "console.log(1)"},
		{"HEAD", "/app.js", 200, ""},
		{"GET", "/docs/", 200, "docs"},
		{"GET", "/docs", 200, "docs"},
		{"GET", "/alias.js", 200, "console.log(1)"},
		{"GET", "/empty/", 404, ""},
		{"GET", "/missing", 404, ""},
		{"GET", "/.env", 404, ""},
		{"GET", "/.git/config", 404, ""},
		{"GET", "/sub/.hidden", 404, ""},
		{"GET", "/passwd", 404, ""},
		{"GET", "/etc/passwd", 404, ""},
		{"GET", "/etc/", 404, ""},
		{"GET", "/secret", 404, ""},
		{"GET", "/../secret.txt", 400, ""},
		{"GET", "/docs/../app.js", 400, ""},
		{"GET", "//app.js", 400, ""},
		{"GET", "/./app.js", 400, ""},
		{"GET", "/%00", 400, ""},
		{"GET", "/app.js%00.txt", 400, ""},
		{"POST", "/app.js", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tt.method, "http://x"+tt.path, nil)
			if req.URL.Path == "" {
				t.Fatalf("bad test path %q", tt.path)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Result().Body)
			if rec.Code != tt.status || tt.status == 200 && string(body) != tt.body {
				t.Fatalf("status %d body %q, want %d %q", rec.Code, body, tt.status, tt.body)
			}
		})
	}
}

// TestServeRawPaths sends request lines byte for byte, as an attacker
// would, past any client-side cleaning.
func TestServeRawPaths(t *testing.T) {
	t.Parallel()
	h, err := New(tree(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	srv := httptest.NewServer(h)
	defer srv.Close()
	for path, want := range map[string]int{
		"/%2e%2e/secret.txt":   400,
		"/%2e%2e%2fsecret.txt": 400,
		"/..%2fsecret.txt":     400,
		"/%2eenv":              404,
		"/passwd":              404,
		"/app.js":              200,
	} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.URL.Opaque = path // sent as it is
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d", path, resp.StatusCode, want)
		}
	}
}

func TestNewFails(t *testing.T) {
	t.Parallel()
	if _, err := New(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Fatal("New of a missing directory succeeded")
	}
}
