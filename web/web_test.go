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
	rec = httptest.NewRecorder()
	web.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/missing.js", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET /missing.js = %d, want 404", rec.Code)
	}
}
