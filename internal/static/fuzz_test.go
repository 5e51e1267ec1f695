package static

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzFileName: whatever the URL path, a name fileName accepts is
// relative, clean, and has no part starting with '.'; a refusal is 400 or
// 404.
func FuzzFileName(f *testing.F) {
	for _, s := range []string{"/", "/a/b.js", "/docs/", "/../x", "/.env", "//x", "/a/./b", "/\x00", "/a/b/..", "/é/ü.txt"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		name, status := fileName(p)
		if status != 0 {
			if status != http.StatusBadRequest && status != http.StatusNotFound || name != "" {
				t.Fatalf("fileName(%q) = %q, %d", p, name, status)
			}
			return
		}
		if name == "" || strings.HasPrefix(name, "/") || strings.IndexByte(name, 0) >= 0 {
			t.Fatalf("fileName(%q) = %q", p, name)
		}
		for part := range strings.SplitSeq(name, "/") {
			if part == "" || strings.HasPrefix(part, ".") {
				t.Fatalf("fileName(%q) = %q: part %q", p, name, part)
			}
		}
	})
}
