package static

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// hashLen is the length of a fingerprint: the first 10 hex digits (40
// bits) of the SHA-256 of the bytes served. It tells versions of one file
// apart, which is all a URL's fingerprint must do; it is no integrity
// check.
const hashLen = 10

// fingerprinted is name with hash before its extension: "js/app.js" with
// "3f2a9c1b7e" is "js/app.3f2a9c1b7e.js"; "LICENSE" is
// "LICENSE.3f2a9c1b7e".
func fingerprinted(name, hash string) string {
	ext := path.Ext(name[strings.LastIndexByte(name, '/')+1:])
	return name[:len(name)-len(ext)] + "." + hash + ext
}

// unfingerprint undoes fingerprinted: it splits a requested name into
// the file's name and the hash it carries, ok false when it carries none.
func unfingerprint(name string) (plain, hash string, ok bool) {
	slash := strings.LastIndexByte(name, '/') + 1
	dir, base := name[:slash], name[slash:]
	ext := path.Ext(base)
	stem := base[:len(base)-len(ext)]
	if i := len(stem) - hashLen - 1; i > 0 && stem[i] == '.' && isHash(stem[i+1:]) {
		return dir + stem[:i] + ext, stem[i+1:], true
	}
	if len(ext) == hashLen+1 && stem != "" && !strings.Contains(stem, ".") && isHash(ext[1:]) {
		return dir + stem, ext[1:], true
	}
	return "", "", false
}

func isHash(s string) bool {
	if len(s) != hashLen {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// CheckCDNURL reports whether s can be Options.CDNURL: an absolute http
// or https URL with a host, and no user, query or fragment. A path is
// allowed ("https://cdn.example.com/site"): the CDN must map it to the
// node's root.
func CheckCDNURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("static: CDN URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Opaque != "":
		err = errors.New("want an absolute http or https URL")
	case u.User != nil:
		err = errors.New("want no user name or password")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		err = errors.New("want no query or fragment")
	}
	if err != nil {
		return fmt.Errorf("static: CDN URL %q: %w", s, err)
	}
	return nil
}

// hasScheme reports whether ref starts with a URL scheme ("https:",
// "data:", "mailto:").
func hasScheme(ref string) bool {
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return true
		default:
			return false
		}
	}
	return false
}

// assetURL is the fingerprinted URL of what ref, found in the page
// pageDir/…, names: a file of the tree that is not a page. ok is false
// for anything else, which a page keeps as it is: another page, a
// directory, a file not in the tree, an external URL (a scheme, or
// "//host"), "#fragment" or "?query" alone, and a relative URL when the
// page sets its own base (relOK false). The query and fragment are kept.
// Without a CDN the URL keeps its form (relative stays relative) and
// only its last segment changes; with one it is the CDN's URL of the
// file.
func (h *Handler) assetURL(pageDir string, relOK bool, ref string) (string, bool) {
	name, p, suffix, ok := h.resolve(pageDir, relOK, ref)
	if !ok {
		return "", false
	}
	return h.fingerprintURL(name, p, suffix, h.cdn)
}

// moduleURL is assetURL for a module specifier in a script of dir: only
// "./…", "../…" and "/…" name files (others are bare names, for an
// import map), and the URL stays relative to the script, on the CDN too.
func (h *Handler) moduleURL(dir, spec string) (string, bool) {
	name, p, suffix, ok := h.moduleTarget(dir, spec)
	if !ok {
		return "", false
	}
	return h.fingerprintURL(name, p, suffix, "")
}

// inlineModuleURL is moduleURL for an inline <script type=module> of a
// page of dir: its URLs resolve against the page, so they are the
// page's (assetURL), through the CDN when there is one.
func (h *Handler) inlineModuleURL(dir string, relOK bool, spec string) (string, bool) {
	if !isPathSpecifier(spec) {
		return "", false
	}
	return h.assetURL(dir, relOK, spec)
}

// moduleTarget is the file a module specifier names, as moduleURL finds
// it.
func (h *Handler) moduleTarget(dir, spec string) (name, p, suffix string, ok bool) {
	if !isPathSpecifier(spec) {
		return "", "", "", false
	}
	return h.resolve(dir, true, spec)
}

// isPathSpecifier reports whether a module specifier is a URL path;
// others are bare names ("lodash") for an import map, or full URLs.
func isPathSpecifier(spec string) bool {
	return strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../") || strings.HasPrefix(spec, "/")
}

// resolve finds the file of the tree, not a page, that ref names from
// dir (see assetURL), and splits ref into its path p and its query and
// fragment.
func (h *Handler) resolve(dir string, relOK bool, ref string) (name, p, suffix string, ok bool) {
	if ref == "" || ref[0] == '#' || ref[0] == '?' || strings.HasPrefix(ref, "//") ||
		strings.ContainsAny(ref, "\\\x00") || hasScheme(ref) {
		return "", "", "", false
	}
	p = ref
	if i := strings.IndexAny(ref, "?#"); i >= 0 {
		p, suffix = ref[:i], ref[i:]
	}
	dec, err := url.PathUnescape(p)
	if err != nil || dec == "" || strings.HasSuffix(dec, "/") || strings.IndexByte(dec, 0) >= 0 {
		return "", "", "", false
	}
	switch {
	case dec[0] == '/':
		name = path.Clean(dec)[1:]
	case relOK:
		name = path.Join("/", dir, dec)[1:] // above the root is the root, as in a browser
	default:
		return "", "", "", false
	}
	if f := h.files[name]; f == nil || f.page {
		return "", "", "", false
	}
	return name, p, suffix, true
}

// fingerprintURL is the URL of name's fingerprinted file: under cdn when
// set, else p (the URL's path as written) with the hash put into its
// last segment; suffix (query, fragment) follows.
func (h *Handler) fingerprintURL(name, p, suffix, cdn string) (string, bool) {
	f := h.files[name]
	if cdn != "" {
		return cdn + (&url.URL{Path: "/" + fingerprinted(name, f.hash)}).EscapedPath() + suffix, true
	}
	seg := p[strings.LastIndexByte(p, '/')+1:]
	base := name[strings.LastIndexByte(name, '/')+1:]
	ext := path.Ext(base)
	if s, err := url.PathUnescape(seg); err != nil || s != base || !strings.HasSuffix(seg, ext) {
		return "", false // "app.js/." or an escaped extension: leave it
	}
	return p[:len(p)-len(ext)] + "." + f.hash + ext + suffix, true
}
