package client

import (
	"slices"
	"testing"
	"time"
)

func ms(v ...int) []time.Duration {
	d := make([]time.Duration, len(v))
	for i, x := range v {
		d[i] = time.Duration(x) * time.Millisecond
	}
	return d
}

var testMargins = margins{Abs: 20 * time.Millisecond, Ratio: 0.3}

func TestMedian(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []time.Duration
		want time.Duration
		ok   bool
	}{
		{nil, 0, false},
		{ms(7), 7 * time.Millisecond, true},
		{ms(9, 1), 1 * time.Millisecond, true},
		{ms(300, 5, 6), 6 * time.Millisecond, true}, // a slow first probe (TCP connect) does not count
		{ms(4, 3, 2, 1), 2 * time.Millisecond, true},
	}
	for _, tt := range tests {
		in := slices.Clone(tt.in)
		got, ok := median(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("median(%v) = %v, %v; want %v, %v", in, got, ok, tt.want, tt.ok)
		}
		if !slices.Equal(in, tt.in) {
			t.Errorf("median modified its input: %v", tt.in)
		}
	}
}

func TestClearlyBetter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cand, cur int // ms
		want      bool
	}{
		{10, 100, true},
		{80, 100, false},  // 20 ms but only 20 %
		{5, 20, false},    // 75 % but only 15 ms
		{70, 100, true},   // exactly 30 ms and 30 %
		{71, 100, false},  // 29 %
		{100, 100, false}, // equal
		{100, 10, false},  // worse
		{200, 1000, true},
	}
	for _, tt := range tests {
		cand, cur := time.Duration(tt.cand)*time.Millisecond, time.Duration(tt.cur)*time.Millisecond
		if got := clearlyBetter(cand, cur, testMargins); got != tt.want {
			t.Errorf("clearlyBetter(%v, %v) = %v, want %v", cand, cur, got, tt.want)
		}
	}
}

func TestRank(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []probeResult
		want []string
	}{
		{"empty", nil, []string{}},
		{"nearest first", []probeResult{
			{URL: "a", RTTs: ms(100, 101, 99)},
			{URL: "b", RTTs: ms(10, 11, 9)},
			{URL: "c", RTTs: ms(50, 51, 49)},
		}, []string{"b", "c", "a"}},
		{"median, not mean: one slow probe does not count", []probeResult{
			{URL: "a", RTTs: ms(500, 10, 10)},
			{URL: "b", RTTs: ms(60, 60, 60)},
		}, []string{"a", "b"}},
		{"near equals: fewer connections first", []probeResult{
			{URL: "a", RTTs: ms(10), Conns: 50},
			{URL: "b", RTTs: ms(12), Conns: 3},
			{URL: "c", RTTs: ms(100), Conns: 0},
		}, []string{"b", "a", "c"}},
		{"equal connections: lower median", []probeResult{
			{URL: "a", RTTs: ms(12), Conns: 3},
			{URL: "b", RTTs: ms(10), Conns: 3},
		}, []string{"b", "a"}},
		{"all equal: by URL", []probeResult{
			{URL: "b", RTTs: ms(10)},
			{URL: "a", RTTs: ms(10)},
		}, []string{"a", "b"}},
		{"never a draining node", []probeResult{
			{URL: "a", RTTs: ms(1), Draining: true},
			{URL: "b", RTTs: ms(90)},
		}, []string{"b"}},
		{"unanswered last, in input order", []probeResult{
			{URL: "z"},
			{URL: "a", RTTs: ms(90)},
			{URL: "y"},
			{URL: "d", Draining: true},
		}, []string{"a", "z", "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := []string{}
			for _, r := range rank(tt.in, testMargins) {
				got = append(got, r.URL)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("rank = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestChoose covers the anti-flap rule: the node in use is kept unless
// another is clearly nearer.
func TestChoose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      []probeResult
		current string
		want    string
	}{
		{"nothing", nil, "", ""},
		{"no current: the best", []probeResult{{URL: "a", RTTs: ms(50)}, {URL: "b", RTTs: ms(10)}}, "", "b"},
		{"equal: stay", []probeResult{{URL: "a", RTTs: ms(10)}, {URL: "b", RTTs: ms(10)}}, "b", "b"},
		{"a little better: stay", []probeResult{{URL: "a", RTTs: ms(40)}, {URL: "b", RTTs: ms(55)}}, "b", "b"},
		{"better by ms, not by ratio: stay", []probeResult{{URL: "a", RTTs: ms(400)}, {URL: "b", RTTs: ms(450)}}, "b", "b"},
		{"better by ratio, not by ms: stay", []probeResult{{URL: "a", RTTs: ms(2)}, {URL: "b", RTTs: ms(12)}}, "b", "b"},
		{"clearly better: switch", []probeResult{{URL: "a", RTTs: ms(10)}, {URL: "b", RTTs: ms(80)}}, "b", "a"},
		{"fewer connections alone: stay", []probeResult{{URL: "a", RTTs: ms(10), Conns: 0}, {URL: "b", RTTs: ms(11), Conns: 900}}, "b", "b"},
		{"current draining: leave", []probeResult{{URL: "a", RTTs: ms(80)}, {URL: "b", RTTs: ms(10), Draining: true}}, "b", "a"},
		{"current gone: the best", []probeResult{{URL: "a", RTTs: ms(80)}}, "b", "a"},
		{"current silent: the best", []probeResult{{URL: "a", RTTs: ms(80)}, {URL: "b"}}, "b", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := choose(rank(tt.in, testMargins), tt.current, testMargins); got != tt.want {
				t.Errorf("choose(current %q) = %q, want %q", tt.current, got, tt.want)
			}
		})
	}
}

// TestChooseNoFlap re-probes two equally near nodes many times with
// noise: once a node is chosen, the client stays on it.
func TestChooseNoFlap(t *testing.T) {
	t.Parallel()
	noise := [][2][]time.Duration{
		{ms(10, 12, 11), ms(11, 10, 13)},
		{ms(14, 10, 12), ms(9, 9, 10)},
		{ms(10, 10, 10), ms(10, 10, 10)},
		{ms(25, 11, 12), ms(10, 30, 9)},
		{ms(13, 12, 15), ms(8, 8, 9)},
	}
	current := ""
	for i, n := range noise {
		in := []probeResult{{URL: "a", RTTs: n[0], Conns: i}, {URL: "b", RTTs: n[1], Conns: 5 - i}}
		got := choose(rank(in, testMargins), current, testMargins)
		if current != "" && got != current {
			t.Fatalf("round %d: switched from %q to %q", i, current, got)
		}
		current = got
	}
}

func TestOrder(t *testing.T) {
	t.Parallel()
	ranked := []probeResult{{URL: "a"}, {URL: "b"}, {URL: "c"}}
	tests := []struct {
		chosen string
		want   []string
	}{
		{"", []string{"a", "b", "c"}},
		{"a", []string{"a", "b", "c"}},
		{"c", []string{"c", "a", "b"}},
	}
	for _, tt := range tests {
		if got := order(ranked, tt.chosen); !slices.Equal(got, tt.want) {
			t.Errorf("order(%q) = %v, want %v", tt.chosen, got, tt.want)
		}
	}
}
