// Package static serves a directory of files over HTTP the way a public
// server must: only what is inside the directory, never a listing, never a
// hidden file.
//
// What it refuses, and how:
//   - a path with a NUL byte, or one that is not clean (`//`, `/./`, a
//     trailing `/..`): 400;
//   - any name, file or directory, that starts with '.' (`.env`, `.git/`,
//     `..`): 404, as if it did not exist;
//   - a symbolic link that leads out of the directory: 404 (the directory
//     is opened as an os.Root, which resolves every name inside it);
//   - a directory without an index.html: 404, never a listing;
//   - methods other than GET and HEAD: 405.
//
// Files are served with http.ServeContent: Range, HEAD, If-Modified-Since
// and the content type by extension. A Handler is safe for concurrent
// use; it holds the directory open until Close.
package static
