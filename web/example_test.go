package web_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"

	"github.com/wsgate/wsgate/web"
)

// The embedded tree can be read like any fs.FS, for a server of one's own.
func ExampleFiles() {
	page, err := fs.ReadFile(web.Files(), "index.html")
	fmt.Println(err == nil, bytes.Contains(page, []byte("<title>wsgate demo</title>")))
	// Output: true true
}

// Handler serves the demo page as a CDN may cache it: revalidated by its
// ETag, compressed for clients that accept it.
func ExampleHandler() {
	h := web.Handler()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept-Encoding", "gzip, br")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Cache-Control"), rec.Header().Get("Content-Encoding"), rec.Header().Get("Vary"))
	// Output: 200 no-cache br Accept-Encoding
}
