// Package web holds the browser side of wsgate that the binary serves at
// /: the demo page and wsgate.js, the browser client (web/js, also laid
// out as an npm package). The files are embedded, so the binary needs
// nothing on disk.
package web

import (
	"embed"
	"io"
	"io/fs"
	"net/http"
	"slices"
	"strings"

	"github.com/wsgate/wsgate/internal/static"
)

//go:embed static js/wsgate.js js/wsgate.d.ts
var files embed.FS

// clientFile reports whether name is one of the browser client's files,
// which live in js/ and which Files serves at its root, beside the page
// that imports it ("./wsgate.js").
func clientFile(name string) bool { return name == "wsgate.js" || name == "wsgate.d.ts" }

// Files is the embedded tree served at /: index.html, the demo page, its
// assets, and wsgate.js with its types, wsgate.d.ts.
func Files() fs.FS { return tree{} }

// tree is web/static with the browser client's files added at its root.
type tree struct{}

func (tree) Open(name string) (fs.File, error) {
	if clientFile(name) {
		return files.Open("js/" + name)
	}
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return newRootDir()
	}
	return files.Open("static/" + name)
}

// rootDir is the tree's root opened: web/static's directory, listing the
// client's files too.
type rootDir struct {
	fs.File // web/static
	entries []fs.DirEntry
}

func newRootDir() (fs.File, error) {
	f, err := files.Open("static")
	if err != nil {
		return nil, err
	}
	entries, err := tree{}.ReadDir(".")
	if err != nil {
		f.Close()
		return nil, err
	}
	return &rootDir{File: f, entries: entries}, nil
}

// ReadDir lists the entries as fs.ReadDirFile says: n > 0 at most n at a
// time, io.EOF at the end; n <= 0 all that are left.
func (d *rootDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if n <= 0 {
		all := d.entries
		d.entries = nil
		return all, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	k := min(n, len(d.entries))
	some := d.entries[:k:k]
	d.entries = d.entries[k:]
	return some, nil
}

func (t tree) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	if name != "." {
		return fs.ReadDir(files, "static/"+name)
	}
	entries, err := fs.ReadDir(files, "static")
	if err != nil {
		return nil, err
	}
	for _, e := range mustReadDir("js") {
		if clientFile(e.Name()) {
			entries = append(entries, e)
		}
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}

func mustReadDir(dir string) []fs.DirEntry {
	entries, err := fs.ReadDir(files, dir)
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return entries
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
