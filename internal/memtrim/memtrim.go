// Package memtrim hands the memory the Go heap keeps but does not use
// back to the system once the process has gone quiet.
//
// A storm of WebSocket handshakes leaves megabytes of garbage (each
// handshake's buffers and request); the heap then stays at about twice
// what is live until the next collection, which an idle server never
// runs, and the runtime keeps the pages. The process's RSS then shows the
// collector's headroom, not what the connections cost. Trimmer notices a
// quiet spell (no collection for a whole interval) after the heap grew
// well past what was live, and then collects and returns the free pages
// at once (debug.FreeOSMemory). A process that allocates more than
// QuietRate is busy: it collects on its own and is never trimmed.
package memtrim

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// MinWaste is the least memory held beyond the live heap that is worth a
// trim, in bytes; a trim also needs a quarter of the live heap.
const MinWaste = 1 << 20

// QuietRate is the most a quiet process allocates, in bytes a second.
const QuietRate = 1 << 20

// sample is what a Trimmer reads of the runtime each interval.
type sample struct {
	at     time.Time
	cycles uint64 // collections completed so far
	allocs uint64 // bytes allocated on the heap so far
	live   uint64 // heap live after the last collection, in bytes
	held   uint64 // heap memory held and not returned to the system, in bytes
}

// worth reports whether a trim is due: since the previous sample no
// collection ran and at most QuietRate was allocated, and the heap holds
// MinWaste and a quarter of the live heap more than is live.
func worth(prev, now sample) bool {
	if now.cycles != prev.cycles || now.held <= now.live {
		return false
	}
	if quiet := uint64(now.at.Sub(prev.at).Seconds() * QuietRate); now.allocs-prev.allocs > quiet {
		return false
	}
	waste := now.held - now.live
	return waste >= MinWaste && waste >= now.live/4
}

var names = []string{
	"/gc/cycles/total:gc-cycles",
	"/gc/heap/allocs:bytes",
	"/gc/heap/live:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
}

// read samples the runtime into s, reusing buf.
func read(buf []metrics.Sample) sample {
	metrics.Read(buf)
	u := func(i int) uint64 {
		if buf[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return buf[i].Value.Uint64()
	}
	return sample{at: time.Now(), cycles: u(0), allocs: u(1), live: u(2), held: u(3) + u(4) + u(5)}
}

// Run looks at the heap every interval until ctx ends, trimming it when
// worth it. It returns the number of trims made. The heap is the
// process's: one Run is enough, and a second would only trim sooner.
func Run(ctx context.Context, interval time.Duration) int {
	buf := make([]metrics.Sample, len(names))
	for i, n := range names {
		buf[i].Name = n
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	prev := read(buf)
	trims := 0
	for {
		select {
		case <-ctx.Done():
			return trims
		case <-t.C:
		}
		now := read(buf)
		if worth(prev, now) {
			debug.FreeOSMemory()
			trims++
			now = read(buf) // the trim's own collection is not activity
		}
		prev = now
	}
}
