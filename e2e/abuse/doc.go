// Package abuse attacks a wsgate binary the way a hostile client would,
// from outside its process, and reports what each attack cost the server:
// its resident memory, open files and CPU time, read from /proc, and the
// latency a well-behaved client saw meanwhile.
//
// The tests run only with WSGATE_ABUSE=1 (`make abuse`); they take minutes
// and hold thousands of sockets. WSGATE_ABUSE_BIN names the binary to
// attack (default: this tree, built by the test), so the same attacks
// measure an older revision for a before-and-after table;
// WSGATE_ABUSE_SECONDS sets how long each flood lasts (default 10).
// Linux only (/proc).
package abuse
