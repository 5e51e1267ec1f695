// Package web holds the browser side of wsgate that the binary serves at
// /: the demo page. The files are embedded, so the binary needs nothing
// on disk.
package web

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/wsgate/wsgate/internal/static"
)

//go:embed static
var files embed.FS

// Files is the embedded tree served at /: index.html, the demo page.
func Files() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// Handler serves Files as the wsgate command does without --cdn-url:
// fingerprinted URLs cached for ever, the page revalidated by its ETag,
// gzip and brotli variants built once (package internal/static says
// which headers go with what). Each call reads and compresses the tree
// again: call it once.
func Handler() http.Handler {
	h, err := static.New(Files(), static.Options{})
	if err != nil {
		panic(err) // the embedded tree is fixed at build time, and reads
	}
	return h
}
