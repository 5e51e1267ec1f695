package web_test

import (
	"bytes"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/wsgate/wsgate/internal/demo"
	"github.com/wsgate/wsgate/web"
)

// get serves path from the embedded tree.
func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// fingerprinted matches a file's fingerprinted name as internal/static
// writes it into pages and modules: name.<10 hex>.ext.
var fingerprinted = regexp.MustCompile(`^\.?/?([a-z]+)\.[0-9a-f]{10}\.(js|css)$`)

// TestDemoPageIsServed: the page, its stylesheet and its modules are
// served, linked by fingerprinted names that the handler serves too, and
// nothing else is.
func TestDemoPageIsServed(t *testing.T) {
	t.Parallel()
	h := web.Handler()
	rec := get(t, h, "/")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET / = %d", rec.Code)
	}
	page := rec.Body.String()
	if !strings.Contains(page, `<title>wsgate demo</title>`) {
		t.Error("the page has no title")
	}
	links := map[string]string{} // plain name → fingerprinted URL
	for _, m := range regexp.MustCompile(`(?:href|src)="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if f := fingerprinted.FindStringSubmatch(m[1]); f != nil {
			links[f[1]+"."+f[2]] = m[1]
		}
	}
	rec = get(t, h, "/"+links["app.js"])
	app := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript") {
		t.Fatalf("the page's module %q: %d %q", links["app.js"], rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, m := range regexp.MustCompile(`from '([^']+)'`).FindAllStringSubmatch(app, -1) {
		if f := fingerprinted.FindStringSubmatch(m[1]); f != nil {
			links[f[1]+"."+f[2]] = m[1]
		}
	}
	for _, name := range []string{"app.css", "app.js", "wsgate.js", "chart.js"} {
		url, ok := links[name]
		if !ok {
			t.Errorf("%s is not linked by a fingerprinted URL (links: %v)", name, links)
			continue
		}
		if rec := get(t, h, "/"+strings.TrimPrefix(url, "./")); rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s = %d, Cache-Control %q", url, rec.Code, rec.Header().Get("Cache-Control"))
		}
	}
	if external := regexp.MustCompile(`(?:src|href)="(?:https?:)?//|from '(?:https?:)?//|@import`); external.MatchString(page + app) {
		t.Errorf("the page or its module loads an external resource: %s", external.FindString(page+app))
	}
	for _, path := range []string{"/missing.js", "/favicon.ico", "/some/page"} {
		if rec := get(t, h, path); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, rec.Code)
		}
	}
}

// TestDemoPageOnLoad checks the page's behaviour as far as its source
// shows it: an inline icon (so browsers do not ask for /favicon.ico,
// which is not there), the calls it makes being the demo backend's, a
// history drawn once the symbols are known, and a notice in place of the
// market widgets when the demo backend is missing. The browser suite in
// e2e (TestDemoPage) runs the page itself.
func TestDemoPageOnLoad(t *testing.T) {
	t.Parallel()
	read := func(name string) string {
		b, err := fs.ReadFile(web.Files(), name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	page, app := read("index.html"), read("app.js")
	for _, want := range []string{
		`<link rel="icon" href="data:image/svg+xml,`, // no request for /favicon.ico
		`<section id="nodemo" class="card notice" hidden>`,
		`<script type="module" src="app.js"></script>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	for _, want := range []string{
		`import { connect } from './wsgate.js';`,
		`c.call('market.symbols'`,        // is the demo backend there?
		`return noDemo(err);`,            // no: the notice
		`c.subscribe('ticks'`,            // yes: ticks
		`await showHistory(symbols[0]);`, // and a history, without a click
		`c.call('market.history', args`,  // twice, timed
		`c.call('` + demo.StatsMethod + `'`,
		`connect([location.origin], { onState })`,
	} {
		if !strings.Contains(app, want) {
			t.Errorf("app.js lacks %s", want)
		}
	}
	// The page calls the demo backend's methods and no others
	// (internal/demo's tests call each of them over /ws).
	demoMethods := map[string]bool{"market.symbols": true, "market.history": true, demo.StatsMethod: true}
	for _, m := range regexp.MustCompile(`\.call\('([^']+)'`).FindAllStringSubmatch(app, -1) {
		if !demoMethods[m[1]] {
			t.Errorf("the page calls %s, which the demo backend does not answer", m[1])
		}
	}
}

// TestDemoPageHeaders: the embedded page goes through internal/static,
// so a CDN or browser can revalidate it and gets it compressed.
func TestDemoPageHeaders(t *testing.T) {
	t.Parallel()
	h := web.Handler()
	get := func(header ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	plain := get()
	etag := plain.Header().Get("ETag")
	if plain.Code != 200 || plain.Header().Get("Cache-Control") != "no-cache" || etag == "" ||
		plain.Header().Get("Vary") != "Accept-Encoding" || plain.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %v", plain.Code, plain.Header())
	}
	br := get("Accept-Encoding", "gzip, br")
	if br.Header().Get("Content-Encoding") != "br" || br.Body.Len() >= plain.Body.Len() {
		t.Fatalf("br: %v, %d bytes of %d", br.Header(), br.Body.Len(), plain.Body.Len())
	}
	if rec := get("If-None-Match", etag); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Fatalf("If-None-Match %s: %d", etag, rec.Code)
	}
}

// TestFiles: the embedded tree is a well-formed fs.FS holding the page
// and, at its root, the browser client, which the handler serves as it
// serves the page's other modules.
func TestFiles(t *testing.T) {
	t.Parallel()
	if err := fstest.TestFS(web.Files(), "index.html", "app.js", "app.css", "chart.js", "wsgate.js", "wsgate.d.ts"); err != nil {
		t.Fatal(err)
	}
	js, err := fs.ReadFile(web.Files(), "wsgate.js")
	if err != nil || !bytes.Contains(js, []byte("export async function connect(")) {
		t.Fatalf("wsgate.js: %v", err)
	}
	rec := httptest.NewRecorder()
	web.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/wsgate.js", nil))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript") || rec.Body.Len() != len(js) {
		t.Fatalf("GET /wsgate.js = %d, %q, %d bytes", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
	}
}
