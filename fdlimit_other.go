//go:build !unix

package wsgate

// openFileLimit is unknown on this system: no default connection cap.
func openFileLimit() uint64 { return 0 }
