package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
