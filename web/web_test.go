package web_test

import (
	"bytes"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/wsgate/wsgate/web"
)

func TestDemoPageIsServed(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	web.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET / = %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{`<title>wsgate demo</title>`, `"market.history"`, `sub: "ticks"`, `"wsgate.v1"`} {
		if !strings.Contains(body, want) {
			t.Errorf("demo page lacks %s", want)
		}
	}
	for _, path := range []string{"/missing.js", "/favicon.ico", "/some/page"} {
		rec = httptest.NewRecorder()
		web.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, rec.Code)
		}
	}
}

// TestDemoPageOnLoad checks the page's own behaviour as far as its source
// shows it: an inline icon (so browsers do not ask for /favicon.ico, which
// is not there), the history drawn once connected, and a notice in place
// of the demo when the demo backend is missing. The browser suite in e2e
// runs the page itself.
func TestDemoPageOnLoad(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	web.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`<link rel="icon" href="data:,">`, // no request for /favicon.ico
		`call("market.symbols")`,          // is the demo backend there?
		`showHistory();`,                  // draws a history without a click
		`id="nodemo" hidden`,              // the notice, shown by noDemo
		`return noDemo(err.message);`,
		`document.getElementById("demo").hidden = true;`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("demo page lacks %s", want)
		}
	}
	if open, start := strings.Index(body, "sock.onopen"), strings.Index(body, "    start();"); open < 0 || start < open {
		t.Error("the page does not start (symbols, then a history) once connected")
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
	if err := fstest.TestFS(web.Files(), "index.html", "wsgate.js", "wsgate.d.ts"); err != nil {
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
