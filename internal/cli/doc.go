// Package cli is the wsgate command line: flags (each with a WSGATE_*
// environment twin) turned into a wsgate.Config, the HTTP listener, the
// built-in demo backend and graceful shutdown on a signal. cmd/wsgate is
// a thin main around Run, so all of it can be tested in-process.
package cli
