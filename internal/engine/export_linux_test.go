//go:build linux

package engine

import "github.com/wsgate/wsgate/internal/uring"

// UringFaults mirrors uringFaults (uring_faults_linux.go) for tests.
type UringFaults struct {
	Setup                func(entries uint32, opts uring.Options) (*uring.Ring, error)
	SQEntries, CQEntries uint32
	BufCount, BufSize    int
	CancelRecv           bool
	CanceledAs           int32
	MaxWrite             int
}

// UringSeen is what the loops of an engine with faults saw.
type UringSeen struct{ NoBufs, Overflows int64 }

// SetUringFaults sets e's io_uring seam; call it before e's first
// connection. It returns what the loops saw, readable at any time.
func SetUringFaults(e *Engine, f UringFaults) func() UringSeen {
	g := e.ep.(*loops)
	uf := &uringFaults{
		setup: f.Setup, sqEntries: f.SQEntries, cqEntries: f.CQEntries,
		bufCount: f.BufCount, bufSize: f.BufSize,
		cancelRecv: f.CancelRecv, canceledAs: f.CanceledAs, maxWrite: f.MaxWrite,
	}
	g.faults = uf
	return func() UringSeen { return UringSeen{NoBufs: uf.noBufs.Load(), Overflows: uf.overflows.Load()} }
}
