package promtext

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]float64
		err  bool
	}{
		{"empty", "", map[string]float64{}, false},
		{"comments and blanks", "# HELP x help\n# TYPE x counter\n\nx 3\n", map[string]float64{"x": 3}, false},
		{"labels", `wsgate_frames_sent_total{encoding="deflate"} 12` + "\n" + `wsgate_frames_sent_total{encoding="plain"} 4`,
			map[string]float64{`wsgate_frames_sent_total{encoding="deflate"}`: 12, `wsgate_frames_sent_total{encoding="plain"}`: 4}, false},
		{"space in a label value", `m{path="a b"} 1.5`, map[string]float64{`m{path="a b"}`: 1.5}, false},
		{"timestamp", "m 7 1700000000000", map[string]float64{"m": 7}, false},
		{"special values", "a NaN\nb +Inf\nc -Inf\nd 1e3", nil, false},
		{"bad value", "m seven", nil, true},
		{"no value", "m", nil, true},
		{"unclosed labels", `m{a="b" 1`, nil, true},
		{"too many fields", "m 1 2 3", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.in))
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if tt.err {
				return
			}
			if tt.want == nil { // only the count is checked
				if len(got) != 4 || got["d"] != 1000 {
					t.Fatalf("got %v", got)
				}
				return
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add("# HELP x y\nx 1\n")
	f.Add(`a{b="c d"} 2 3`)
	f.Add("m{")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := Parse(strings.NewReader(in))
		if err == nil && got == nil {
			t.Fatal("nil map without an error")
		}
		for name := range got {
			if name == "" || strings.ContainsAny(name[:1], " \t#") {
				t.Fatalf("sample name %q", name)
			}
		}
	})
}
