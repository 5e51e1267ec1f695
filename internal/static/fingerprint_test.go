package static

import (
	"testing"
	"testing/fstest"
)

func TestFingerprintNames(t *testing.T) {
	t.Parallel()
	const h = "0123456789"
	for _, tt := range []struct{ name, fp string }{
		{"app.js", "app.0123456789.js"},
		{"js/app.min.js", "js/app.min.0123456789.js"},
		{"LICENSE", "LICENSE.0123456789"},
		{"v1.0/x", "v1.0/x.0123456789"},
		{"a.b.c", "a.b.0123456789.c"},
	} {
		if got := fingerprinted(tt.name, h); got != tt.fp {
			t.Errorf("fingerprinted(%q) = %q, want %q", tt.name, got, tt.fp)
		}
		if plain, hash, ok := unfingerprint(tt.fp); !ok || plain != tt.name || hash != h {
			t.Errorf("unfingerprint(%q) = %q %q %v", tt.fp, plain, hash, ok)
		}
	}
	for _, s := range []string{"app.js", "app.012345678.js", "app.0123456789a.js", ".0123456789.js", "x/.0123456789", "a.b.0123456789"} {
		if plain, _, ok := unfingerprint(s); ok && fingerprinted(plain, h) != s {
			t.Errorf("unfingerprint(%q) = %q", s, plain)
		}
	}
}

func TestCheckCDNURL(t *testing.T) {
	t.Parallel()
	for s, ok := range map[string]bool{
		"https://cdn.example.com":         true,
		"https://cdn.example.com/":        true,
		"http://cdn.example.com:8080/app": true,
		"cdn.example.com":                 false,
		"/assets":                         false,
		"ftp://cdn.example.com":           false,
		"https://":                        false,
		"https://cdn.example.com/?v=1":    false,
		"https://cdn.example.com/?":       false,
		"https://cdn.example.com/#x":      false,
		"https://cdn.example.com/#":       false,
		"https://u:p@cdn.example.com":     false,
		"https:cdn.example.com":           false,
		"https://cdn.example.com/%zz":     false,
	} {
		if err := CheckCDNURL(s); (err == nil) != ok {
			t.Errorf("CheckCDNURL(%q) = %v", s, err)
		}
	}
}

func TestAssetURL(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"app.js":         {Data: []byte("a")},
		"docs/guide.css": {Data: []byte("g")},
		"docs/page.html": {Data: []byte("p")},
		"my file.js":     {Data: []byte("m")},
		"LICENSE":        {Data: []byte("l")},
	}
	h, err := New(fsys, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cdn, err := New(fsys, Options{CDNURL: "https://cdn.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	app, guide, my := hashOf(t, h, "app.js"), hashOf(t, h, "docs/guide.css"), hashOf(t, h, "my file.js")
	for _, tt := range []struct {
		dir, ref  string
		want, cdn string // "" means left as it is
	}{
		{"", "app.js", "app." + app + ".js", "https://cdn.example.com/app." + app + ".js"},
		{"", "./app.js", "./app." + app + ".js", "https://cdn.example.com/app." + app + ".js"},
		{"", "/app.js?x=1#y", "/app." + app + ".js?x=1#y", "https://cdn.example.com/app." + app + ".js?x=1#y"},
		{"docs", "../app.js", "../app." + app + ".js", "https://cdn.example.com/app." + app + ".js"},
		{"docs", "../../../app.js", "../../../app." + app + ".js", "https://cdn.example.com/app." + app + ".js"}, // above the root is the root
		{"docs", "guide.css", "guide." + guide + ".css", "https://cdn.example.com/docs/guide." + guide + ".css"},
		{"", "/docs/../app.js", "/docs/../app." + app + ".js", "https://cdn.example.com/app." + app + ".js"},
		{"", "my%20file.js", "my%20file." + my + ".js", "https://cdn.example.com/my%20file." + my + ".js"},
		{"", "LICENSE", "LICENSE." + hashOf(t, h, "LICENSE"), "https://cdn.example.com/LICENSE." + hashOf(t, h, "LICENSE")},
		{"", "app%2Ejs", "", "https://cdn.example.com/app." + app + ".js"},
		{"", "app.js/.", "", "https://cdn.example.com/app." + app + ".js"},
		{"", "docs/page.html", "", ""},
		{"", "docs/", "", ""},
		{"", "docs", "", ""},
		{"", "missing.js", "", ""},
		{"docs", "app.js", "", ""},
		{"", "https://example.com/app.js", "", ""},
		{"", "//example.com/app.js", "", ""},
		{"", "/\\example.com/app.js", "", ""},
		{"", "javascript:app.js", "", ""},
		{"", "#app.js", "", ""},
		{"", "?app.js", "", ""},
		{"", "", "", ""},
		{"", "%zz", "", ""},
	} {
		got, ok := h.assetURL(tt.dir, true, tt.ref)
		if !ok {
			got = ""
		}
		if got != tt.want {
			t.Errorf("%q in %q: %q, want %q", tt.ref, tt.dir, got, tt.want)
		}
		got, ok = cdn.assetURL(tt.dir, true, tt.ref)
		if !ok {
			got = ""
		}
		if got != tt.cdn {
			t.Errorf("CDN: %q in %q: %q, want %q", tt.ref, tt.dir, got, tt.cdn)
		}
	}
	if _, ok := h.assetURL("", false, "app.js"); ok {
		t.Error("a relative URL rewritten under <base href>")
	}
}
