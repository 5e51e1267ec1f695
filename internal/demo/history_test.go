package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
)

type candle struct {
	T          int64
	O, H, L, C float64
	V          int64
}

type historyResult struct {
	Symbol string
	Points []candle
}

func call(t *testing.T, args string) (historyResult, error) {
	t.Helper()
	var a json.RawMessage
	if args != "" {
		a = json.RawMessage(args)
	}
	v, err := historyCall(context.Background(), a)
	if err != nil {
		return historyResult{}, err
	}
	raw, ok := v.(json.RawMessage)
	if !ok {
		t.Fatalf("market.history returned %T, want json.RawMessage", v)
	}
	var r historyResult
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("market.history result is not JSON: %v", err)
	}
	return r, nil
}

func TestHistoryShape(t *testing.T) {
	t.Parallel()
	for _, sym := range Symbols() {
		t.Run(sym, func(t *testing.T) {
			t.Parallel()
			r, err := call(t, fmt.Sprintf(`{"symbol":%q,"points":40}`, sym))
			if err != nil {
				t.Fatal(err)
			}
			if r.Symbol != sym || len(r.Points) != 40 {
				t.Fatalf("got %s with %d points, want %s with 40", r.Symbol, len(r.Points), sym)
			}
			for i, p := range r.Points {
				if want := int64(historyStart + i*candleSeconds); p.T != want {
					t.Fatalf("point %d: t = %d, want %d", i, p.T, want)
				}
				if p.L <= 0 || p.L > min(p.O, p.C) || p.H < max(p.O, p.C) || p.V <= 0 {
					t.Fatalf("point %d is not a candle: %+v", i, p)
				}
				if i > 0 && p.O != r.Points[i-1].C {
					t.Fatalf("point %d opens at %v, previous closed at %v", i, p.O, r.Points[i-1].C)
				}
			}
		})
	}
}

func TestHistoryDeterministic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	acme, _ := lookup("ACME")
	globex, _ := lookup("GLOBEX")
	a, _ := history(ctx, acme, 30)
	b, _ := history(ctx, acme, 30)
	if !bytes.Equal(a, b) {
		t.Fatal("two histories with the same arguments differ")
	}
	long, _ := history(ctx, acme, 60)
	if !bytes.HasPrefix(long, a[:len(a)-2]) { // without the closing "]}"
		t.Fatal("a shorter history is not a prefix of a longer one")
	}
	g, _ := history(ctx, globex, 30)
	if bytes.Equal(a[20:], g[22:]) {
		t.Fatal("two symbols have the same history")
	}
}

func TestHistoryErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args string
		code wsgate.ErrorCode
	}{
		{``, wsgate.CodeBadRequest},
		{`null`, wsgate.CodeBadRequest},
		{`{}`, wsgate.CodeBadRequest},
		{`[]`, wsgate.CodeBadRequest},
		{`"ACME"`, wsgate.CodeBadRequest},
		{`{"symbol":1}`, wsgate.CodeBadRequest},
		{`{"symbol":"ACME","points":0}`, wsgate.CodeBadRequest},
		{`{"symbol":"ACME","points":-1}`, wsgate.CodeBadRequest},
		{`{"symbol":"ACME","points":5001}`, wsgate.CodeBadRequest},
		{`{"symbol":"ACME","points":1.5}`, wsgate.CodeBadRequest},
		{`{"symbol":"ACME","points":"10"}`, wsgate.CodeBadRequest},
		{`{"symbol":"NOPE"}`, wsgate.CodeNotFound},
		{`{"symbol":"acme","points":1}`, wsgate.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			t.Parallel()
			_, err := call(t, tt.args)
			var e *wsgate.Error
			if !errors.As(err, &e) || e.Code != tt.code {
				t.Fatalf("market.history(%s) error = %v, want code %s", tt.args, err, tt.code)
			}
		})
	}
}

func TestHistoryDefaultAndMax(t *testing.T) {
	t.Parallel()
	r, err := call(t, `{"symbol":"UMBRELLA"}`)
	if err != nil || len(r.Points) != DefaultPoints {
		t.Fatalf("default history: %d points, %v; want %d", len(r.Points), err, DefaultPoints)
	}
	// MaxPoints is allowed; a cancelled context keeps it from costing much.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	_, err = historyCall(ctx, json.RawMessage(`{"symbol":"ACME","points":5000}`))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled history: %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("cancelled history took %v", d)
	}
}

func TestSymbolsCall(t *testing.T) {
	t.Parallel()
	v, err := symbolsCall(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	if want := `["ACME","GLOBEX","INITECH","UMBRELLA"]`; string(b) != want {
		t.Fatalf("market.symbols = %s, want %s", b, want)
	}
}

// BenchmarkHistory measures what the cache saves: one market.history call.
// The default size should cost tens of milliseconds.
func BenchmarkHistory(b *testing.B) {
	sym, _ := lookup("ACME")
	for _, n := range []int{DefaultPoints, MaxPoints} {
		b.Run(fmt.Sprint("points=", n), func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				out, err := history(context.Background(), sym, n)
				if err != nil {
					b.Fatal(err)
				}
				size = len(out)
			}
			b.ReportMetric(float64(size), "bytes/result")
		})
	}
}
