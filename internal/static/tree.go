package static

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// build reads the tree once: every file's hash, type and (when small
// enough) bytes, then the pages rewritten to fingerprinted URLs, then the
// compressed variants.
func build(fsys fs.FS, opts Options) (*Handler, error) {
	if opts.CDNURL != "" {
		if err := CheckCDNURL(opts.CDNURL); err != nil {
			return nil, err
		}
	}
	h := &Handler{
		fsys:  fsys,
		files: map[string]*file{},
		dirs:  map[string]bool{"": true},
		cdn:   strings.TrimSuffix(opts.CDNURL, "/"),
	}
	budget := opts.maxMemory()
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name == "." {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
			h.dirs[name] = true
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			// Followed to a regular file inside the tree; a link that
			// leads out (os.Root refuses it), dangles or names a
			// directory is not served.
			if info, err := fs.Stat(fsys, name); err != nil || !info.Mode().IsRegular() {
				return nil
			}
		case !d.Type().IsRegular():
			return nil // devices, pipes, sockets
		}
		f, err := readFile(fsys, name, min(opts.maxFile(), budget))
		if err != nil {
			return err
		}
		budget -= int64(len(f.body[identity]))
		h.files[name] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static: %w", err)
	}
	h.rewriteModules()
	for _, f := range h.files {
		if f.page && f.body[identity] != nil {
			h.rewritePage(f)
		}
	}
	for _, f := range h.files {
		if !f.vary || f.body[identity] == nil {
			continue
		}
		for _, c := range []coding{gzipCoding, brCoding} {
			b, err := compress(c, f.body[identity])
			if err != nil {
				return nil, fmt.Errorf("static: %s: %w", f.name, err)
			}
			if len(b) < len(f.body[identity]) {
				f.body[c] = b
			}
		}
	}
	return h, nil
}

// readFile reads name's hash and type, and its bytes when it has at most
// limit of them.
func readFile(fsys fs.FS, name string, limit int64) (*file, error) {
	r, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	info, err := r.Stat()
	if err != nil {
		return nil, err
	}
	head, err := io.ReadAll(io.LimitReader(r, max(limit, 512)+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	sum := sha256.New()
	sum.Write(head)
	f := &file{
		name:    name,
		modTime: info.ModTime(),
		size:    int64(len(head)),
		ctype:   contentType(name, head),
		page:    isPage(name),
	}
	if f.size <= limit {
		f.body[identity] = head
	} else {
		n, err := io.Copy(sum, r)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		f.size += n
	}
	f.hash = hex.EncodeToString(sum.Sum(nil))[:hashLen]
	f.vary = compressible(f.ctype)
	return f, nil
}

// rewritePage points the page's links to the tree's files at their
// fingerprinted URLs; a page that changes takes the hash of its new
// bytes and loses its Last-Modified, which no longer says when its
// content last changed.
func (h *Handler) rewritePage(f *file) {
	dir := dirOf(f.name)
	body := f.body[identity]
	relOK := !hasBaseHref(body)
	out := rewriteHTML(body,
		func(ref string) (string, bool) { return h.assetURL(dir, relOK, ref) },
		func(spec string) (string, bool) { return h.inlineModuleURL(dir, relOK, spec) })
	if bytes.Equal(out, body) {
		return
	}
	f.body[identity] = out
	h.rehash(f)
}

// rewriteModules points the imports of the JavaScript modules held in
// memory (leadingSpecifiers: "./util.js") at fingerprinted URLs, kept
// relative, so that a fingerprinted module pulls in, at any time, the
// very modules it was hashed with. A module's hash covers its rewritten
// bytes, so its imports are hashed first: the modules are taken by
// strongly connected components of the import graph, dependencies first.
// Inside a cycle (a imports b imports a) no fingerprint can name the
// other, so imports between members of a cycle stay plain.
func (h *Handler) rewriteModules() {
	type module struct {
		f     *file
		dir   string
		specs []specSpan
		deps  []string // modules it imports that are rewritten too
	}
	mods := map[string]*module{}
	for name, f := range h.files {
		if f.body[identity] == nil || !strings.HasPrefix(f.ctype, "text/javascript") {
			continue
		}
		if specs := leadingSpecifiers(f.body[identity]); len(specs) > 0 {
			mods[name] = &module{f: f, dir: dirOf(name), specs: specs}
		}
	}
	for _, m := range mods {
		for _, sp := range m.specs {
			if dep, _, _, ok := h.moduleTarget(m.dir, string(m.f.body[identity][sp.start:sp.end])); ok && mods[dep] != nil {
				m.deps = append(m.deps, dep)
			}
		}
	}
	// Tarjan's algorithm: a component is complete, and rewritten, after
	// every component it imports.
	index, low, onStack := map[string]int{}, map[string]int{}, map[string]bool{}
	var stack []string
	var visit func(v string)
	visit = func(v string) {
		index[v], low[v] = len(index), len(index)
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range mods[v].deps {
			if _, seen := index[w]; !seen {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] != index[v] {
			return
		}
		component := map[string]bool{}
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			component[w] = true
			if w == v {
				break
			}
		}
		for name := range component {
			m := mods[name]
			m.f.body[identity] = rewriteSpecifiers(m.f.body[identity], m.specs, func(spec string) (string, bool) {
				if dep, _, _, ok := h.moduleTarget(m.dir, spec); !ok || component[dep] {
					return "", false
				}
				return h.moduleURL(m.dir, spec)
			})
		}
		for name := range component {
			h.rehash(mods[name].f)
		}
	}
	for name := range mods {
		if _, seen := index[name]; !seen {
			visit(name)
		}
	}
}

// rehash gives f the hash of its rewritten bytes; its Last-Modified,
// which no longer dates them, goes.
func (h *Handler) rehash(f *file) {
	sum := sha256.Sum256(f.body[identity])
	if hash := hex.EncodeToString(sum[:])[:hashLen]; hash != f.hash {
		f.hash = hash
		f.size = int64(len(f.body[identity]))
		f.modTime = time.Time{}
	}
}

func dirOf(name string) string {
	if dir := path.Dir(name); dir != "." {
		return dir
	}
	return ""
}

func isPage(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".html" || ext == ".htm"
}

// contentType is the Content-Type of name: for the web's own types from
// a table here, so that it does not depend on the machine's MIME files;
// then from the machine's; then sniffed from the file's first bytes.
func contentType(name string, head []byte) string {
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".html", ".htm":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".json", ".map":
		return "application/json"
	case ".webmanifest":
		return "application/manifest+json"
	case ".wasm":
		return "application/wasm"
	case ".svg":
		return "image/svg+xml"
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".xml":
		return "application/xml"
	case ".ico":
		return "image/x-icon"
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".webp":
		return "image/webp"
	case ".avif":
		return "image/avif"
	case ".woff":
		return "font/woff"
	case ".woff2":
		return "font/woff2"
	case ".ttf":
		return "font/ttf"
	case ".otf":
		return "font/otf"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return http.DetectContentType(head)
}

// compressible reports whether files of the media type usually shrink
// under gzip or brotli: text, scripts, JSON, XML and SVG, WebAssembly,
// and uncompressed fonts and icons. Images, archives and WOFF fonts are
// compressed already.
func compressible(ctype string) bool {
	mt, _, err := mime.ParseMediaType(ctype)
	if err != nil {
		return false
	}
	if strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml") {
		return true
	}
	switch mt {
	case "application/javascript", "application/json", "application/xml", "application/wasm",
		"font/ttf", "font/otf", "application/vnd.ms-fontobject", "image/x-icon",
		"image/vnd.microsoft.icon", "image/bmp":
		return true
	}
	return false
}
