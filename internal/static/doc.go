// Package static serves a tree of files (a directory, or the demo page
// embedded in the binary) the way a public server behind a CDN must:
// only what is inside the tree, with URLs a CDN may cache for ever and
// validators for the rest.
//
// # Read once
//
// New and Open walk the tree once. Every file's hash (the first 10 hex
// digits of the SHA-256 of its bytes) is taken then. A file of at most
// Options.MaxFileInMemory bytes (4 MiB), while the files held total at
// most Options.MaxMemory (64 MiB), is held in memory together with its
// gzip and brotli variants, built at once at the best compression for a
// compressible type (text, HTML, CSS, JavaScript, JSON, source maps, SVG,
// WebAssembly, uncompressed fonts, icons) and kept only when smaller. A
// larger file is read from disk at each request, uncompressed; if it no
// longer has the size and modification time it had at start, it is
// answered 404, since its hash names bytes that are gone. The Handler
// serves the tree as it was at start: restart to serve a new version.
// Brotli at its best level is slow, so start-up takes longer the more
// compressible bytes the tree holds.
//
// # URLs and headers
//
// A file is served under its name ("/js/app.js") and under its
// fingerprinted name, the hash before the extension
// ("/js/app.3f2a9c1b7e.js", "/LICENSE.3f2a9c1b7e"):
//   - fingerprinted: Cache-Control "public, max-age=31536000, immutable".
//     A hash that is not the file's current one is 404, never an older
//     file;
//   - plain name: Cache-Control "no-cache", so every use is revalidated;
//   - both: Access-Control-Allow-Origin "*" (module scripts and fonts
//     from a CDN's host are fetched with CORS; the files are public), a
//     strong ETag, the quoted hash with "-gz" or "-br" inside the
//     quotes for a compressed variant, Content-Type (from the extension,
//     else sniffed), X-Content-Type-Options "nosniff", Last-Modified for a
//     file of a directory served byte for byte, and for a compressible
//     type Vary "Accept-Encoding" (on a 304 too).
//
// If-None-Match (a list, "*", W/ tags compared weakly as RFC 9110 section
// 13.1.2 says) against the ETag of the representation chosen is answered
// 304; when it is present If-Modified-Since is not looked at.
// Accept-Encoding is parsed with its qvalues: q=0 refuses a coding, "*"
// stands for codings not named, the highest weight wins and br before gzip
// before identity on a tie. A request without the field gets identity;
// one that refuses everything available gets identity too (RFC 9110
// section 12.5.3 prefers that to a 406). Range, If-Range, If-Match and
// HEAD are http.ServeContent's; a Range applies to the representation
// chosen, the compressed bytes for a compressed one (RFC 9110 section 14:
// ranges are of the selected representation, whose ETag is its own, so
// If-Range cannot mix them up).
//
// # Pages
//
// Every .html or .htm file held in memory is rewritten at start: a URL in
// a src, href, poster or srcset attribute that names a file of the tree,
// relative ("app.js", "../css/site.css") or from the root ("/app.js"),
// points at its fingerprinted name, keeping its query and fragment. Left
// as written: external URLs (with a scheme or "//host"), "#…" and "?…"
// alone, directories, other pages (their URLs are the site's, so links
// between pages keep them), files not in the tree, and relative URLs in a
// page with a <base href>. With Options.CDNURL a rewritten URL is the
// CDN's, absolute. A rewritten page takes the hash of its new bytes and
// sends no Last-Modified.
//
// # Modules
//
// A JavaScript file held in memory that starts with import or export-from
// declarations has their "./", "../" and "/" specifiers rewritten the
// same way, kept relative (on a CDN too), so that a fingerprinted module
// always loads the very modules it was hashed with. Hashes are taken
// bottom-up, dependencies first, so a change in a module changes the
// fingerprint of every module and page above it. Inside an import cycle
// no fingerprint can name the other modules: imports between members of
// a cycle stay plain (revalidated, and possibly newer than the module
// importing them). The leading imports of an inline <script type=module>
// in a page are rewritten like the page's attributes (through the CDN
// when there is one, since they resolve against the page). Only leading
// declarations are read: an import after other statements, a dynamic
// import(…), a bare name ("lodash"), and url(…) in CSS keep their plain
// URLs, which are served "no-cache" and revalidated.
//
// # What is refused
//
//   - a path with a NUL byte, or one that is not clean (`//`, `/./`, a
//     `/..`): 400;
//   - any name, file or directory, that starts with '.' (`.env`, `.git/`):
//     404, as if it did not exist;
//   - a symbolic link that leads out of the directory: 404 (Open opens
//     the directory as an os.Root, which resolves every name inside it).
//     A link to a file inside it is served as that file; a link to a
//     directory is not followed (no cycles, no second copy of a subtree);
//   - a directory without an index.html: 404, never a listing; a
//     directory named without its trailing '/' is redirected (301) to it,
//     so that its page's relative links resolve;
//   - methods other than GET and HEAD: 405 with Allow.
//
// Errors are sent with Cache-Control "no-store": a CDN must not keep a
// 404 for a fingerprinted URL that a node still running the previous
// version answered during a deploy.
//
// A Handler is safe for concurrent use. Open's holds the directory open
// until Close.
package static
