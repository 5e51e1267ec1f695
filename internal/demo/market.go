package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wsgate/wsgate"
)

// The limits and default of market.history's "points" argument.
const (
	DefaultPoints = 500
	MaxPoints     = 5000
)

// symbol describes one instrument of the fake market.
type symbol struct {
	name  string
	price float64 // starting price, in dollars
	vol   float64 // volatility per minute, as a fraction of the price
}

// market returns the instruments on offer, in a fixed order.
func market() []symbol {
	return []symbol{
		{"ACME", 123.45, 0.0012},
		{"GLOBEX", 58.20, 0.0020},
		{"INITECH", 17.85, 0.0035},
		{"UMBRELLA", 312.00, 0.0008},
	}
}

// Symbols returns the names of the demo's symbols.
func Symbols() []string {
	m := market()
	names := make([]string, len(m))
	for i, s := range m {
		names[i] = s.name
	}
	return names
}

func lookup(name string) (symbol, bool) {
	for _, s := range market() {
		if s.name == name {
			return s, true
		}
	}
	return symbol{}, false
}

// HistoryTTL is how long a market.history result is cached. The result
// depends on its args alone, so any TTL would do; a finite one keeps a
// rarely asked history from holding cache memory for ever.
const HistoryTTL = 10 * time.Minute

// SymbolsTTL is how long a market.symbols result is cached: the list
// never changes while the process runs.
const SymbolsTTL = time.Hour

// Register adds the demo's methods, market.symbols, market.history and
// demo.stats, to s. market.history is deliberately expensive and cached
// for HistoryTTL, so the second call of the same history costs nothing;
// market.symbols, a small constant answer, is cached too; demo.stats,
// s's own counters, is not.
func Register(s *wsgate.Server) {
	s.Handle("market.symbols", symbolsCall, wsgate.CacheFor(SymbolsTTL))
	s.Handle("market.history", historyCall, wsgate.CacheFor(HistoryTTL))
	s.Handle(StatsMethod, statsCall(s))
}

func symbolsCall(context.Context, json.RawMessage) (any, error) {
	return Symbols(), nil
}

// historyArgs are the arguments of market.history.
type historyArgs struct {
	Symbol string `json:"symbol"`
	Points *int   `json:"points"`
}

func historyCall(ctx context.Context, args json.RawMessage) (any, error) {
	var a historyArgs
	if len(args) == 0 {
		return nil, wsgate.Errorf(wsgate.CodeBadRequest, `args {"symbol":…} are required`)
	}
	if err := json.Unmarshal(args, &a); err != nil {
		return nil, wsgate.Errorf(wsgate.CodeBadRequest, `args must be {"symbol":string,"points":integer}`)
	}
	if a.Symbol == "" {
		return nil, wsgate.Errorf(wsgate.CodeBadRequest, "symbol is required")
	}
	n := DefaultPoints
	if a.Points != nil {
		n = *a.Points
		if n < 1 || n > MaxPoints {
			return nil, wsgate.Errorf(wsgate.CodeBadRequest, "points must be between 1 and %d", MaxPoints)
		}
	}
	sym, ok := lookup(a.Symbol)
	if !ok {
		return nil, wsgate.Errorf(wsgate.CodeNotFound, "unknown symbol %q", a.Symbol)
	}
	b, err := history(ctx, sym, n)
	if err != nil {
		return nil, fmt.Errorf("demo: market.history: %w", err)
	}
	return json.RawMessage(b), nil
}
