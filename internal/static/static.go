package static

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
)

// Options tune a Handler. The zero value serves the files as they are,
// each file up to 4 MiB held in memory while the files held total at
// most 64 MiB.
type Options struct {
	// CDNURL, when set, is where rewritten pages point fingerprinted
	// files: with "https://cdn.example.com", a page's "app.js" becomes
	// "https://cdn.example.com/app.3f2a9c1b7e.js". Pages themselves are
	// still served by the Handler. It must pass CheckCDNURL.
	CDNURL string
	// MaxFileInMemory is the largest file, in bytes, held in memory with
	// its compressed variants. Larger files are read from disk at each
	// request, identity only; a page among them is not rewritten. Zero
	// means 4 MiB; negative holds no file.
	MaxFileInMemory int64
	// MaxMemory bounds the bytes of all files held in memory; files met
	// once it is spent are read from disk. Their variants, each smaller
	// than its file, are held besides. Zero means 64 MiB; negative holds
	// no file.
	MaxMemory int64
}

func (o Options) maxFile() int64 {
	if o.MaxFileInMemory == 0 {
		return 4 << 20
	}
	return o.MaxFileInMemory
}

func (o Options) maxMemory() int64 {
	if o.MaxMemory == 0 {
		return 64 << 20
	}
	return o.MaxMemory
}

// Handler serves the files of one tree as they were when it was made.
// It is safe for concurrent use; nothing in it changes after New or
// Open.
type Handler struct {
	fsys  fs.FS
	root  *os.Root         // the directory Open holds; nil after New
	files map[string]*file // by name in the tree: "js/app.js"
	dirs  map[string]bool  // the tree's directories: "" and "js"
	cdn   string           // Options.CDNURL without a trailing '/'
}

// file is one file of the tree as it is served.
type file struct {
	name    string
	hash    string    // the fingerprint: hashLen hex digits of the SHA-256 of body[identity]
	ctype   string    // Content-Type
	modTime time.Time // Last-Modified; zero for none (embedded files, rewritten pages)
	size    int64     // bytes of the identity representation
	page    bool      // .html or .htm: rewritten, and never fingerprinted in links
	vary    bool      // a compressible type: Vary: Accept-Encoding
	// body holds the representations kept in memory, indexed by coding;
	// body[identity] is nil for a file read from disk at each request.
	body [nCodings][]byte
}

// New reads the tree fsys once and returns a Handler for its files
// (see the package documentation). It fails when the tree cannot be
// read or opts.CDNURL is not valid.
func New(fsys fs.FS, opts Options) (*Handler, error) {
	return build(fsys, opts)
}

// Open is New for the directory dir, opened as an os.Root so that no
// name, symbolic links included, leads out of it. The Handler holds dir
// open until Close.
func Open(dir string, opts Options) (*Handler, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("static: %w", err)
	}
	h, err := build(root.FS(), opts)
	if err != nil {
		root.Close()
		return nil, err
	}
	h.root = root
	return h, nil
}

// Close releases the directory Open holds; it does nothing after New.
func (h *Handler) Close() error {
	if h.root == nil {
		return nil
	}
	return h.root.Close()
}

// The Cache-Control values sent.
const (
	cacheImmutable  = "public, max-age=31536000, immutable" // a fingerprinted URL
	cacheRevalidate = "no-cache"                            // a plain name: revalidate with the ETag
	cacheNever      = "no-store"                            // an error: a CDN keeps no 404 across a deploy
)

// ServeHTTP serves the file the request's path names (see the package
// documentation for the rules).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		fail(w, http.StatusMethodNotAllowed)
		return
	}
	name, dir, status := fileName(r.URL.Path)
	if status != 0 {
		fail(w, status)
		return
	}
	if dir {
		if f := h.files[path.Join(name, "index.html")]; f != nil && h.dirs[name] {
			h.serve(w, r, f, false)
			return
		}
		fail(w, http.StatusNotFound)
		return
	}
	if f := h.files[name]; f != nil {
		h.serve(w, r, f, false)
		return
	}
	if h.dirs[name] {
		// Relative links in its index.html need the trailing slash.
		target := "./" + path.Base(name) + "/"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", target)
		w.Header().Set("Cache-Control", cacheRevalidate)
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	if plain, hash, ok := unfingerprint(name); ok {
		if f := h.files[plain]; f != nil && f.hash == hash {
			h.serve(w, r, f, true)
			return
		}
	}
	fail(w, http.StatusNotFound)
}

// serve sends f, under its fingerprinted URL when immutable.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, f *file, immutable bool) {
	hdr := w.Header()
	c := identity
	if f.vary {
		hdr.Set("Vary", "Accept-Encoding")
		var available [nCodings]bool
		for k := range available {
			available[k] = f.body[k] != nil
		}
		c = parseAcceptEncoding(strings.Join(r.Header.Values("Accept-Encoding"), ",")).choose(available)
	}
	etag := `"` + f.hash + c.etagSuffix() + `"`
	hdr.Set("ETag", etag)
	if immutable {
		hdr.Set("Cache-Control", cacheImmutable)
	} else {
		hdr.Set("Cache-Control", cacheRevalidate)
	}
	// Module scripts and fonts are fetched with CORS: from a CDN's host,
	// a page's other origin, they need this; plain names too (a font that
	// a fingerprinted stylesheet names by url(…)). The files are public.
	hdr.Set("Access-Control-Allow-Origin", "*")
	// If-Match and If-Unmodified-Since come first (RFC 9110, section
	// 13.2.2); when a request has either, http.ServeContent judges all.
	if inm := r.Header.Values("If-None-Match"); len(inm) > 0 &&
		r.Header.Get("If-Match") == "" && r.Header.Get("If-Unmodified-Since") == "" {
		if noneMatch(strings.Join(inm, ","), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		// Decided here, once: http.ServeContent must not judge it again,
		// nor If-Modified-Since, which If-None-Match overrides.
		r2 := *r
		r2.Header = r.Header.Clone()
		r2.Header.Del("If-None-Match")
		r2.Header.Del("If-Modified-Since")
		r = &r2
	}
	hdr.Set("Content-Type", f.ctype)
	hdr.Set("X-Content-Type-Options", "nosniff")
	if c != identity {
		hdr.Set("Content-Encoding", c.token())
	}
	if b := f.body[c]; b != nil {
		if c != identity {
			w = lengthWriter{w, len(b)}
		}
		http.ServeContent(w, r, "", f.modTime, bytes.NewReader(b))
		return
	}
	content, err := h.fsys.Open(f.name)
	if err != nil {
		fail(w, http.StatusNotFound)
		return
	}
	defer content.Close()
	info, err := content.Stat()
	rs, seeks := content.(io.ReadSeeker)
	if err != nil || !seeks || info.Size() != f.size || !info.ModTime().Equal(f.modTime) {
		// Changed since the hash was taken: what it names is gone.
		fail(w, http.StatusNotFound)
		return
	}
	http.ServeContent(w, r, "", f.modTime, rs)
}

// lengthWriter gives a whole compressed representation its
// Content-Length, which http.ServeContent leaves out when
// Content-Encoding is set (it sets it on a 206, and no other status has
// this body).
type lengthWriter struct {
	http.ResponseWriter
	n int
}

func (w lengthWriter) WriteHeader(status int) {
	if status == http.StatusOK {
		w.Header().Set("Content-Length", strconv.Itoa(w.n))
	}
	w.ResponseWriter.WriteHeader(status)
}

// fail answers with status and a body of its text, and forbids caching
// it: a 404 cached by a CDN while nodes run different versions of the
// tree would outlive the deploy.
func fail(w http.ResponseWriter, status int) {
	hdr := w.Header()
	for _, k := range []string{"ETag", "Vary", "Content-Encoding", "Last-Modified", "Access-Control-Allow-Origin"} {
		hdr.Del(k)
	}
	hdr.Set("Cache-Control", cacheNever)
	http.Error(w, http.StatusText(status), status)
}

// fileName maps a URL path to a name in the tree ("" for the root, no
// leading or trailing '/'), dir telling whether the path ended in '/',
// or returns the status that refuses it.
func fileName(p string) (name string, dir bool, status int) {
	if !strings.HasPrefix(p, "/") || strings.IndexByte(p, 0) >= 0 {
		return "", false, http.StatusBadRequest
	}
	dir = strings.HasSuffix(p, "/")
	if c := path.Clean(p); c != p && !(dir && c+"/" == p) {
		return "", false, http.StatusBadRequest
	}
	name = strings.Trim(p, "/")
	for part := range strings.SplitSeq(name, "/") {
		if strings.HasPrefix(part, ".") {
			return "", false, http.StatusNotFound
		}
	}
	return name, dir, 0
}
