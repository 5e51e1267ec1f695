package demo

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/wsgate/wsgate"
)

// TicksChannel is the channel RunTicks publishes on.
const TicksChannel = "ticks"

// DefaultTickInterval is RunTicks' interval when it is given zero or less.
const DefaultTickInterval = 250 * time.Millisecond

// RunTicks publishes price updates on channel "ticks" for each symbol,
// {"symbol":"ACME","price":123.45,"ts":unix_ms}, every interval (zero or
// less means DefaultTickInterval) until ctx is done; it returns nil then,
// and also when s begins to drain or shut down. Of the nodes of a
// cluster that all run it, one publishes (publishesTicks). A publication
// that fails for another reason is dropped and the next tick tries again.
// RunTicks runs on the caller's goroutine.
func RunTicks(ctx context.Context, s *wsgate.Server, interval time.Duration) error {
	if interval <= 0 {
		interval = DefaultTickInterval
	}
	w := newWalk(rand.Uint64())
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			if s.Node().Draining {
				return nil // the server is stopping: no more publications
			}
			if !publishesTicks(s) {
				continue
			}
			for i := range w.prices {
				// A fresh buffer each time: a broker may keep raw data in its
				// history.
				data := w.tick(make([]byte, 0, 64), i, now)
				_, err := s.Publish(ctx, TicksChannel, json.RawMessage(data))
				if errors.Is(err, wsgate.ErrServerClosed) || ctx.Err() != nil {
					return nil
				}
			}
		}
	}
}

// walk is a random walk of every symbol's price. It is not safe for
// concurrent use.
type walk struct {
	rng    *rand.Rand
	syms   []symbol
	prices []float64
}

func newWalk(seed uint64) *walk {
	syms := market()
	w := &walk{rng: rand.New(rand.NewPCG(seed, 0x7469636b)), syms: syms, prices: make([]float64, len(syms))}
	for i, s := range syms {
		w.prices[i] = s.price
	}
	return w
}

// tick moves symbol i's price one step, pulled gently back towards its
// starting price, and appends the tick's JSON to dst.
func (w *walk) tick(dst []byte, i int, now time.Time) []byte {
	s := w.syms[i]
	p := w.prices[i]
	p *= math.Exp(s.vol*w.rng.NormFloat64() + reversion*math.Log(s.price/p))
	p = max(math.Round(p*100)/100, 0.01)
	w.prices[i] = p

	dst = append(dst, `{"symbol":"`...)
	dst = append(dst, s.name...)
	dst = append(dst, `","price":`...)
	dst = strconv.AppendFloat(dst, p, 'f', 2, 64)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, now.UnixMilli(), 10)
	return append(dst, '}')
}

// publishesTicks reports whether this node is the one of its cluster that
// publishes the ticks: the live node with the smallest id that is not
// draining. Every node runs RunTicks, and one random walk per channel is
// what the clients chart, wherever they are connected; when that node
// leaves, the next one takes over once the others see it gone.
func publishesTicks(s *wsgate.Server) bool {
	self := s.Node()
	for _, n := range s.Nodes() {
		if !n.Draining && n.ID < self.ID {
			return false
		}
	}
	return true
}
