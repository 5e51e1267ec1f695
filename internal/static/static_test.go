package static

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"
)

// appJS is long and repetitive enough for both variants to be smaller.
var appJS = strings.Repeat("export const greeting = 'hello';\n", 40)

const indexHTML = `<!doctype html>
<link rel="stylesheet" href="css/site.css">
<link rel=modulepreload href='/app.js'>
<script type="module" src="/app.js?v=1#x"></script>
<script>const s = "<img src=app.js>";</script>
<!-- <img src="app.js"> -->
<a href="docs/">docs</a> <a href="about.html">about</a> <a href="#top">top</a>
<img src="https://example.com/a.png"> <img src="data:,"> <img src="missing.png">
<img srcset="img/a.png 1x, img/b.png 2x" src=img/a.png>
<a href="LICENSE">license</a>
`

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
	write("site/index.html", indexHTML)
	write("site/about.html", "about")
	write("site/app.js", appJS)
	write("site/css/site.css", "body { color: black; }\n")
	write("site/img/a.png", "\x89PNG\r\n\x1a\nA")
	write("site/img/b.png", "\x89PNG\r\n\x1a\nB")
	write("site/LICENSE", "MIT")
	write("site/tiny.txt", "x")
	write("site/docs/index.html", `<script src="../app.js"></script>`)
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
	link("app.js", "alias.js") // a file inside: served as that file
	link("css", "styles")      // a directory inside: not followed
	link("nowhere", "dangling")
	return dir
}

func open(t *testing.T, dir string, opts Options) *Handler {
	t.Helper()
	h, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// get serves one request; header holds name, value pairs.
func get(h http.Handler, method, target string, header ...string) (*http.Response, string) {
	req := httptest.NewRequest(method, "http://node"+target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// hashOf is the fingerprint the handler gave name.
func hashOf(t *testing.T, h *Handler, name string) string {
	t.Helper()
	f := h.files[name]
	if f == nil {
		t.Fatalf("%s not in the tree", name)
	}
	return f.hash
}

func TestServe(t *testing.T) {
	t.Parallel()
	h := open(t, tree(t), Options{})
	app := "/app." + hashOf(t, h, "app.js") + ".js"
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/index.html", 200, ""},
		{"GET", "/app.js", 200, appJS},
		{"GET", app, 200, appJS},
		{"HEAD", "/app.js", 200, ""},
		{"GET", "/LICENSE", 200, "MIT"},
		{"GET", "/LICENSE." + hashOf(t, h, "LICENSE"), 200, "MIT"},
		{"GET", "/docs/", 200, `<script src="../app.` + hashOf(t, h, "app.js") + `.js"></script>`},
		{"GET", "/docs", 301, ""},
		{"GET", "/alias.js", 200, appJS},
		{"GET", "/alias." + hashOf(t, h, "app.js") + ".js", 200, appJS},
		{"GET", "/empty/", 404, ""},
		{"GET", "/empty/keep.txt", 200, "x"},
		{"GET", "/missing", 404, ""},
		{"GET", "/app.0123456789.js", 404, ""}, // not the current hash
		{"GET", "/app.012345678.js", 404, ""},  // not a hash
		{"GET", "/app.ABCDEF0123.js", 404, ""}, // hashes are lower case
		{"GET", "/.env", 404, ""},
		{"GET", "/.git/config", 404, ""},
		{"GET", "/sub/.hidden", 404, ""},
		{"GET", "/passwd", 404, ""},
		{"GET", "/etc/passwd", 404, ""},
		{"GET", "/etc/", 404, ""},
		{"GET", "/secret", 404, ""},
		{"GET", "/styles/site.css", 404, ""},
		{"GET", "/styles/", 404, ""},
		{"GET", "/dangling", 404, ""},
		{"GET", "/../secret.txt", 400, ""},
		{"GET", "/docs/../app.js", 400, ""},
		{"GET", "//app.js", 400, ""},
		{"GET", "/./app.js", 400, ""},
		{"GET", "/%00", 400, ""},
		{"GET", "/app.js%00.txt", 400, ""},
		{"POST", "/app.js", 405, ""},
		{"PUT", app, 405, ""},
		{"OPTIONS", "/", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			resp, body := get(h, tt.method, tt.path)
			if resp.StatusCode != tt.status || tt.body != "" && body != tt.body {
				t.Fatalf("status %d body %q, want %d %q", resp.StatusCode, body, tt.status, tt.body)
			}
			if tt.method == "HEAD" && body != "" {
				t.Fatalf("HEAD has a body: %q", body)
			}
			switch {
			case tt.status >= 400 && resp.Header.Get("Cache-Control") != "no-store":
				t.Fatalf("error with Cache-Control %q", resp.Header.Get("Cache-Control"))
			case tt.status == 405 && resp.Header.Get("Allow") != "GET, HEAD":
				t.Fatalf("405 with Allow %q", resp.Header.Get("Allow"))
			case tt.status == 301 && resp.Header.Get("Location") != "./docs/":
				t.Fatalf("301 to %q", resp.Header.Get("Location"))
			}
		})
	}
}

// TestHeaders checks every header of a 200 for plain and fingerprinted
// names, compressible and not.
func TestHeaders(t *testing.T) {
	t.Parallel()
	h := open(t, tree(t), Options{})
	app, png := hashOf(t, h, "app.js"), hashOf(t, h, "img/a.png")
	const immutable, revalidate = "public, max-age=31536000, immutable", "no-cache"
	tests := []struct {
		path, accept string
		want         map[string]string // "" means absent
	}{
		{"/app.js", "", map[string]string{
			"Cache-Control": revalidate, "ETag": `"` + app + `"`, "Vary": "Accept-Encoding",
			"Content-Type": "text/javascript; charset=utf-8", "Content-Encoding": "",
			"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff",
		}},
		{"/app." + app + ".js", "gzip, deflate, br", map[string]string{
			"Cache-Control": immutable, "ETag": `"` + app + `-br"`, "Vary": "Accept-Encoding",
			"Content-Encoding": "br", "Access-Control-Allow-Origin": "*",
		}},
		{"/app." + app + ".js", "gzip", map[string]string{
			"Cache-Control": immutable, "ETag": `"` + app + `-gz"`, "Content-Encoding": "gzip",
		}},
		{"/img/a.png", "br", map[string]string{
			"Cache-Control": revalidate, "ETag": `"` + png + `"`, "Vary": "", "Content-Encoding": "",
			"Content-Type": "image/png",
		}},
		{"/img/a." + png + ".png", "br", map[string]string{
			"Cache-Control": immutable, "Vary": "", "Content-Encoding": "",
		}},
		{"/tiny.txt", "br", map[string]string{ // no variant is smaller: identity, still Vary
			"Vary": "Accept-Encoding", "Content-Encoding": "", "Content-Length": "1",
		}},
		{"/", "", map[string]string{
			"Content-Type": "text/html; charset=utf-8", "Cache-Control": revalidate,
			"Last-Modified": "", // rewritten: its mtime no longer dates its bytes
		}},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.accept, func(t *testing.T) {
			t.Parallel()
			resp, body := get(h, "GET", tt.path, "Accept-Encoding", tt.accept)
			head, hbody := get(h, "HEAD", tt.path, "Accept-Encoding", tt.accept)
			if resp.StatusCode != 200 || head.StatusCode != 200 || hbody != "" {
				t.Fatalf("GET %d, HEAD %d %q", resp.StatusCode, head.StatusCode, hbody)
			}
			for k, v := range tt.want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			for k := range resp.Header {
				if k != "Date" && head.Header.Get(k) != resp.Header.Get(k) {
					t.Errorf("HEAD %s: %q, GET %q", k, head.Header.Get(k), resp.Header.Get(k))
				}
			}
			if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(body)) {
				t.Errorf("Content-Length %s for %d bytes", cl, len(body))
			}
		})
	}
	if resp, _ := get(h, "GET", "/app.js"); resp.Header.Get("Last-Modified") == "" {
		t.Error("a file served as it is has no Last-Modified")
	}
}

// decode undoes a Content-Encoding.
func decode(t *testing.T, enc, body string) string {
	t.Helper()
	var r io.Reader = strings.NewReader(body)
	switch enc {
	case "":
		return body
	case "br":
		r = brotli.NewReader(r)
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	default:
		t.Fatalf("Content-Encoding %q", enc)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAcceptEncoding(t *testing.T) {
	t.Parallel()
	h := open(t, tree(t), Options{})
	tests := []struct {
		accept []string // one per field line; nil sends none
		want   string   // Content-Encoding
	}{
		{nil, ""},
		{[]string{""}, ""},
		{[]string{"gzip"}, "gzip"},
		{[]string{"br"}, "br"},
		{[]string{"gzip, deflate, br, zstd"}, "br"},
		{[]string{"gzip", "br"}, "br"},
		{[]string{"br;q=0, gzip"}, "gzip"},
		{[]string{"br;q=0"}, ""},
		{[]string{"gzip;q=0.5, br;q=0.4"}, "gzip"},
		{[]string{"gzip;q=0.5 , br;q=0.500"}, "br"},
		{[]string{"identity;q=0"}, ""}, // nothing acceptable: identity (RFC 9110 12.5.3)
		{[]string{"identity;q=0, gzip;q=0.1"}, "gzip"},
		{[]string{"identity, gzip;q=0.5"}, ""},
		{[]string{"*"}, "br"},
		{[]string{"*;q=0"}, ""},
		{[]string{"*;q=0, gzip"}, "gzip"},
		{[]string{"*;q=0.3, br;q=0.2"}, "gzip"},
		{[]string{"x-gzip"}, "gzip"},
		{[]string{"GZIP;Q=1.0"}, "gzip"},
		{[]string{"br;q=0.0001"}, ""},      // malformed qvalue: element ignored
		{[]string{"br;q=2, gzip"}, "gzip"}, // likewise
		{[]string{"deflate, compress"}, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.accept, "|"), func(t *testing.T) {
			t.Parallel()
			var hdr []string
			for _, v := range tt.accept {
				hdr = append(hdr, "Accept-Encoding", v)
			}
			resp, body := get(h, "GET", "/app.js", hdr...)
			enc := resp.Header.Get("Content-Encoding")
			if enc != tt.want {
				t.Fatalf("Content-Encoding %q, want %q", enc, tt.want)
			}
			if got := decode(t, enc, body); got != appJS {
				t.Fatalf("decoded body %q", got)
			}
			if resp.Header.Get("Vary") != "Accept-Encoding" {
				t.Fatal("no Vary")
			}
		})
	}
}

func TestIfNoneMatch(t *testing.T) {
	t.Parallel()
	h := open(t, tree(t), Options{})
	app := hashOf(t, h, "app.js")
	tag, br := `"`+app+`"`, `"`+app+`-br"`
	tests := []struct {
		inm, accept string
		status      int
	}{
		{tag, "", 304},
		{"W/" + tag, "", 304}, // weak comparison
		{`"x", ` + tag, "", 304},
		{`"x",` + tag + `, "y"`, "", 304},
		{"*", "", 304},
		{"*", "br", 304},
		{`"x"`, "", 200},
		{br, "", 200},                 // the br tag does not match identity
		{br, "br", 304},               // and matches br
		{tag, "br", 200},              // identity's tag does not match br
		{`"` + app, "", 200},          // malformed
		{`"x" junk, ` + tag, "", 200}, // malformed before the tag
		{app, "", 200},                // unquoted
	}
	for _, tt := range tests {
		t.Run(tt.inm+" "+tt.accept, func(t *testing.T) {
			t.Parallel()
			for _, method := range []string{"GET", "HEAD"} {
				resp, body := get(h, method, "/app.js", "If-None-Match", tt.inm, "Accept-Encoding", tt.accept)
				if resp.StatusCode != tt.status {
					t.Fatalf("%s: status %d, want %d", method, resp.StatusCode, tt.status)
				}
				if tt.status != 304 {
					continue
				}
				if body != "" || resp.Header.Get("Vary") != "Accept-Encoding" ||
					resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("ETag") == "" {
					t.Fatalf("304 with body %q and headers %v", body, resp.Header)
				}
			}
		})
	}
	// Two field lines are one list.
	if resp, _ := get(h, "GET", "/app.js", "If-None-Match", `"x"`, "If-None-Match", tag); resp.StatusCode != 304 {
		t.Errorf("tag in a second field line: %d", resp.StatusCode)
	}
	// If-None-Match that does not match overrides If-Modified-Since.
	resp, _ := get(h, "GET", "/app.js", "If-None-Match", `"x"`, "If-Modified-Since", "Sun, 06 Dec 2099 00:00:00 GMT")
	if resp.StatusCode != 200 {
		t.Errorf("If-Modified-Since judged beside If-None-Match: %d", resp.StatusCode)
	}
	// If-Match is http.ServeContent's: a 412 carries no length of a body
	// it does not have.
	for _, accept := range []string{"", "br"} {
		resp, body := get(h, "GET", "/app.js", "If-Match", `"x"`, "Accept-Encoding", accept)
		if resp.StatusCode != 412 || resp.Header.Get("Content-Length") != "" && resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Errorf("If-Match, %q: %d %v", accept, resp.StatusCode, resp.Header)
		}
		resp, body = get(h, "GET", "/app.js", "If-Match", `"`+app+`-br"`, "Accept-Encoding", accept)
		if want := map[string]int{"": 412, "br": 200}[accept]; resp.StatusCode != want {
			t.Errorf("If-Match br tag, %q: %d", accept, resp.StatusCode)
		} else if want == 200 && resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Errorf("If-Match br tag: Content-Length %q for %d bytes", resp.Header.Get("Content-Length"), len(body))
		}
	}
	// If-Match is judged before If-None-Match.
	if resp, _ := get(h, "GET", "/app.js", "If-Match", `"x"`, "If-None-Match", tag); resp.StatusCode != 412 {
		t.Errorf("failing If-Match with a matching If-None-Match: %d", resp.StatusCode)
	}
	if resp, _ := get(h, "GET", "/app.js", "If-Match", tag, "If-None-Match", tag); resp.StatusCode != 304 || resp.Header.Get("Vary") == "" {
		t.Errorf("If-Match and If-None-Match both matching: %d %v", resp.StatusCode, resp.Header)
	}
	// Fingerprinted: same tags, immutable on the 304.
	resp, _ = get(h, "GET", "/app."+app+".js", "If-None-Match", tag)
	if resp.StatusCode != 304 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("fingerprinted 304: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestRange(t *testing.T) {
	t.Parallel()
	h := open(t, tree(t), Options{})
	app := hashOf(t, h, "app.js")
	brBody := string(h.files["app.js"].body[brCoding])
	tests := []struct {
		rng, accept, ifRange string
		status               int
		body, contentRange   string
	}{
		{"bytes=0-5", "", "", 206, appJS[:6], "bytes 0-5/" + strconv.Itoa(len(appJS))},
		{"bytes=-4", "", "", 206, appJS[len(appJS)-4:], ""},
		{"bytes=99999-", "", "", 416, "", "bytes */" + strconv.Itoa(len(appJS))},
		{"bytes=0-5", "", `"other"`, 200, appJS, ""},
		{"bytes=0-5", "", `"` + app + `"`, 206, appJS[:6], ""},
		{"bytes=0-3", "br", "", 206, brBody[:4], "bytes 0-3/" + strconv.Itoa(len(brBody))},
		{"bytes=0-3", "br", `"` + app + `"`, 200, brBody, ""}, // identity's tag: not this representation
	}
	// Several ranges: one multipart body, its length declared.
	resp, body := get(h, "GET", "/app.js", "Range", "bytes=0-1,4-5")
	if resp.StatusCode != 206 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges; boundary=") ||
		resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) || !strings.Contains(body, appJS[4:6]) {
		t.Errorf("two ranges: %d %v", resp.StatusCode, resp.Header)
	}
	for _, tt := range tests {
		t.Run(tt.rng+" "+tt.accept+" "+tt.ifRange, func(t *testing.T) {
			t.Parallel()
			hdr := []string{"Range", tt.rng, "Accept-Encoding", tt.accept}
			if tt.ifRange != "" {
				hdr = append(hdr, "If-Range", tt.ifRange)
			}
			resp, body := get(h, "GET", "/app.js", hdr...)
			if resp.StatusCode != tt.status || tt.status != 416 && body != tt.body {
				t.Fatalf("status %d body %q, want %d %q", resp.StatusCode, body, tt.status, tt.body)
			}
			if tt.contentRange != "" && resp.Header.Get("Content-Range") != tt.contentRange {
				t.Fatalf("Content-Range %q, want %q", resp.Header.Get("Content-Range"), tt.contentRange)
			}
			if tt.status == 206 && resp.Header.Get("Content-Length") != strconv.Itoa(len(tt.body)) {
				t.Fatalf("Content-Length %q", resp.Header.Get("Content-Length"))
			}
		})
	}
}

func TestPagesRewritten(t *testing.T) {
	t.Parallel()
	dir := tree(t)
	for _, tt := range []struct {
		cdn, prefix string
	}{
		{"", ""},
		{"https://cdn.example.com/", "https://cdn.example.com/"},
		{"http://cdn.example.com/site", "http://cdn.example.com/site/"},
	} {
		h := open(t, dir, Options{CDNURL: tt.cdn})
		hash := func(name string) string { return hashOf(t, h, name) }
		abs := func(rel, root string) string { // the URL without and with a CDN
			if tt.prefix == "" {
				return rel
			}
			return tt.prefix + root
		}
		_, body := get(h, "GET", "/")
		want := `<!doctype html>
<link rel="stylesheet" href="` + abs("css/site."+hash("css/site.css")+".css", "css/site."+hash("css/site.css")+".css") + `">
<link rel=modulepreload href="` + abs("/app."+hash("app.js")+".js", "app."+hash("app.js")+".js") + `">
<script type="module" src="` + abs("/app."+hash("app.js")+".js", "app."+hash("app.js")+".js") + `?v=1#x"></script>
<script>const s = "<img src=app.js>";</script>
<!-- <img src="app.js"> -->
<a href="docs/">docs</a> <a href="about.html">about</a> <a href="#top">top</a>
<img src="https://example.com/a.png"> <img src="data:,"> <img src="missing.png">
<img srcset="` + abs("img/a."+hash("img/a.png")+".png", "img/a."+hash("img/a.png")+".png") + ` 1x, ` +
			abs("img/b."+hash("img/b.png")+".png", "img/b."+hash("img/b.png")+".png") + ` 2x" src="` +
			abs("img/a."+hash("img/a.png")+".png", "img/a."+hash("img/a.png")+".png") + `">
<a href="` + abs("LICENSE."+hash("LICENSE"), "LICENSE."+hash("LICENSE")) + `">license</a>
`
		if body != want {
			t.Errorf("CDN %q: page\n%s\nwant\n%s", tt.cdn, body, want)
		}
		if resp, _ := get(h, "GET", "/"); resp.Header.Get("ETag") != `"`+hash("index.html")+`"` {
			t.Errorf("ETag %q is not the rewritten page's hash", resp.Header.Get("ETag"))
		}
		// Every URL the page names is served, fingerprinted, by this node
		// (a CDN forwards its path to it).
		for _, m := range regexp.MustCompile(`(?:src|href)="([^"#?]+)`).FindAllStringSubmatch(body, -1) {
			u := strings.TrimPrefix(strings.TrimPrefix(m[1], strings.TrimSuffix(tt.prefix, "/")), "/")
			if strings.Contains(u, ":") || strings.HasSuffix(u, "/") || !regexp.MustCompile(`\.[0-9a-f]{10}`).MatchString(u) {
				continue
			}
			if resp, _ := get(h, "GET", "/"+u); resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
				t.Errorf("%s: %d %q", u, resp.StatusCode, resp.Header.Get("Cache-Control"))
			}
		}
	}
}

func TestBaseHrefKeepsRelativeLinks(t *testing.T) {
	t.Parallel()
	h, err := New(fstest.MapFS{
		"index.html": {Data: []byte(`<base href="/v2/"><script src="app.js"></script><script src="/app.js"></script>`)},
		"app.js":     {Data: []byte("1")},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, body := get(h, "GET", "/")
	want := `<base href="/v2/"><script src="app.js"></script><script src="/app.` + hashOf(t, h, "app.js") + `.js"></script>`
	if body != want {
		t.Fatalf("page %s, want %s", body, want)
	}
}

// TestEmbedded serves an fs.FS the way web/ does: no modification times,
// so no Last-Modified; everything else alike.
func TestEmbedded(t *testing.T) {
	t.Parallel()
	h, err := New(fstest.MapFS{
		"index.html": {Data: []byte(`<script src="app.js"></script>`)},
		"app.js":     {Data: []byte(appJS)},
		".hidden":    {Data: []byte("no")},
	}, Options{CDNURL: "https://cdn.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	resp, body := get(h, "GET", "/", "Accept-Encoding", "br")
	if resp.StatusCode != 200 || resp.Header.Get("Last-Modified") != "" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	want := `<script src="https://cdn.example.com/app.` + hashOf(t, h, "app.js") + `.js"></script>`
	if got := decode(t, resp.Header.Get("Content-Encoding"), body); got != want {
		t.Fatalf("page %q, want %q", got, want)
	}
	if resp, _ := get(h, "GET", "/.hidden"); resp.StatusCode != 404 {
		t.Fatalf("dotfile: %d", resp.StatusCode)
	}
}

// TestLargeFromDisk: past MaxFileInMemory a file is hashed at start,
// served from disk without variants, and refused once it changes.
func TestLargeFromDisk(t *testing.T) {
	t.Parallel()
	dir := tree(t)
	h := open(t, dir, Options{MaxFileInMemory: 100})
	app := hashOf(t, h, "app.js")
	if h.files["app.js"].body[identity] != nil || h.files["tiny.txt"].body[identity] == nil {
		t.Fatal("the bound did not decide what is held")
	}
	resp, body := get(h, "GET", "/app."+app+".js", "Accept-Encoding", "br")
	if resp.StatusCode != 200 || body != appJS || resp.Header.Get("Content-Encoding") != "" ||
		resp.Header.Get("ETag") != `"`+app+`"` || resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	if resp, body := get(h, "GET", "/app.js", "Range", "bytes=0-5"); resp.StatusCode != 206 || body != appJS[:6] {
		t.Fatalf("range: %d %q", resp.StatusCode, body)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.js"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(h, "GET", "/app."+app+".js"); resp.StatusCode != 404 {
		t.Fatalf("changed file: %d", resp.StatusCode)
	}
	// The memory bound: only what fits is held.
	h2 := open(t, dir, Options{MaxMemory: 1})
	held := 0
	for _, f := range h2.files {
		if f.body[identity] != nil {
			held++
		}
	}
	if held > 1 {
		t.Fatalf("%d files held within a 1-byte bound", held)
	}
}

// TestServeRawPaths sends request lines byte for byte, as an attacker
// would, past any client-side cleaning.
func TestServeRawPaths(t *testing.T) {
	t.Parallel()
	h := open(t, tree(t), Options{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for path, want := range map[string]int{
		"/%2e%2e/secret.txt":   400,
		"/%2e%2e%2fsecret.txt": 400,
		"/..%2fsecret.txt":     400,
		"/docs%2f..%2fapp.js":  400,
		"/%2eenv":              404,
		"/%2e%2fapp.js":        400,
		"/passwd":              404,
		"/app.js":              200,
		"/css%2fsite.css":      200, // an encoded slash is a slash
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
	if _, err := Open(filepath.Join(t.TempDir(), "none"), Options{}); err == nil {
		t.Fatal("Open of a missing directory succeeded")
	}
	if _, err := New(fstest.MapFS{}, Options{CDNURL: "cdn.example.com"}); err == nil {
		t.Fatal("New with a relative CDN URL succeeded")
	}
}
