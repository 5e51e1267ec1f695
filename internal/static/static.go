package static

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
)

// Handler serves the files of one directory. Create it with New.
type Handler struct {
	root *os.Root
}

// New opens dir and returns a Handler for its files. It fails when dir
// is not a directory that can be opened.
func New(dir string) (*Handler, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("static: %w", err)
	}
	return &Handler{root: root}, nil
}

// Close releases the directory.
func (h *Handler) Close() error { return h.root.Close() }

// ServeHTTP serves the file the request's path names (see the package
// documentation for what it refuses).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, status := fileName(r.URL.Path)
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	f, info, err := h.open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	http.ServeContent(w, r, info.Name(), info.ModTime(), f)
}

// fileName maps a URL path to a name inside the directory, or returns the
// status that refuses it.
func fileName(p string) (name string, status int) {
	if !strings.HasPrefix(p, "/") || strings.IndexByte(p, 0) >= 0 {
		return "", http.StatusBadRequest
	}
	dir := strings.HasSuffix(p, "/")
	if c := path.Clean(p); c != p && !(dir && c+"/" == p) {
		return "", http.StatusBadRequest
	}
	name = strings.Trim(p, "/")
	for part := range strings.SplitSeq(name, "/") {
		if strings.HasPrefix(part, ".") {
			return "", http.StatusNotFound
		}
	}
	if name == "" || dir {
		name = path.Join(name, "index.html")
	}
	return name, 0
}

// open opens name for reading; a directory is served by its index.html.
func (h *Handler) open(name string) (*os.File, fs.FileInfo, error) {
	for range 2 {
		f, err := h.root.Open(name)
		if err != nil {
			return nil, nil, err
		}
		info, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		if !info.IsDir() {
			return f, info, nil
		}
		f.Close()
		name = path.Join(name, "index.html")
	}
	return nil, nil, errors.New("static: index.html is a directory")
}
