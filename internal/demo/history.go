package demo

import (
	"context"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
)

// The shape of a generated history.
const (
	// historyStart is the open of the first candle, 2024-01-02 14:30:00 UTC,
	// in Unix seconds: a fixed time, so the same arguments always give the
	// same answer.
	historyStart = 1704205800
	// candleSeconds is the length of one candle (one point).
	candleSeconds = 60
	// substeps is how many steps of the simulated price path make one
	// candle. It sets the cost of market.history: about 4 ms of CPU per 100
	// points, 20 ms for the default 500, on a current server core (see
	// BenchmarkHistory).
	substeps = 4000
	// reversion pulls the log price back to the symbol's starting price per
	// candle, so that long histories stay in a plausible range.
	reversion = 0.002
)

// history simulates sym's price minute by minute for n candles and returns
// {"symbol":…,"points":[{"t":…,"o":…,"h":…,"l":…,"c":…,"v":…},…]}. The
// path is a Monte-Carlo random walk of the log price with substeps steps per
// candle; it depends only on the symbol, so a shorter history is a prefix
// of a longer one. history stops early, returning ctx's error, when ctx is
// done.
func history(ctx context.Context, sym symbol, n int) ([]byte, error) {
	rng := rand.New(rand.NewPCG(seed(sym.name), 0x6d61726b6574))
	home := math.Log(sym.price)
	step := sym.vol / math.Sqrt(substeps) // so that one candle moves by vol
	pull := reversion / substeps

	b := make([]byte, 0, 40+n*80)
	b = append(b, `{"symbol":"`...)
	b = append(b, sym.name...) // names are plain ASCII
	b = append(b, `","points":[`...)
	logp := home
	for i := range n {
		if i%50 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if i > 0 {
			// A candle is about 40 µs of CPU. Yielding between candles
			// lets other goroutines, the event loops answering cache hits
			// among them, run in between, so that on a server with one
			// core they wait for a candle, not for a whole history (up to
			// 200 ms). While the core stays busy, the runtime still looks
			// at the network only every 10 ms or so.
			runtime.Gosched()
		}
		open, hi, lo, moved := logp, logp, logp, 0.0
		for range substeps {
			d := step*rng.NormFloat64() + pull*(home-logp)
			logp += d
			hi = max(hi, logp)
			lo = min(lo, logp)
			moved += math.Abs(d)
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"t":`...)
		b = strconv.AppendInt(b, historyStart+int64(i)*candleSeconds, 10)
		b = appendPrice(append(b, `,"o":`...), math.Exp(open))
		b = appendPrice(append(b, `,"h":`...), math.Exp(hi))
		b = appendPrice(append(b, `,"l":`...), math.Exp(lo))
		b = appendPrice(append(b, `,"c":`...), math.Exp(logp))
		b = append(b, `,"v":`...)
		b = strconv.AppendInt(b, int64(moved/sym.vol*1000), 10) // busier when the price moves more
		b = append(b, '}')
	}
	return append(b, "]}"...), nil
}

// appendPrice appends p rounded to cents, never below one cent.
func appendPrice(b []byte, p float64) []byte {
	return strconv.AppendFloat(b, max(p, 0.01), 'f', 2, 64)
}

// seed derives a generator seed from a symbol name.
func seed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}
