package promtext

import (
	"math"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
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

// FuzzParse round-trips samples through the Prometheus text format as
// github.com/prometheus/common/expfmt writes it: a family of a fuzzed
// name, type and help, with two samples labelled with a fuzzed label
// (one with a timestamp), parses back to exactly those samples, keyed by
// the name and labels as the format prints them (label values escaped:
// backslash, double quote, line feed) and with the same values, NaN and
// infinities included. Arbitrary text must not make Parse panic.
func FuzzParse(f *testing.F) {
	f.Add("wsgate_frames_sent_total", "encoding", "deflate", 12.0, int64(0), uint8(0), "Frames sent.")
	f.Add("m", "path", "a b} 1 2", math.Inf(-1), int64(1700000000000), uint8(1), "two\nlines")
	f.Add("x:y", "q", "back\\slash \"quote\"\nline", math.NaN(), int64(-1), uint8(2), "")
	f.Add("_", "_", "", 1e-300, int64(5), uint8(3), "# HELP")
	f.Fuzz(func(t *testing.T, name, label, value string, v float64, ts int64, kind uint8, help string) {
		name, label = legacyName(name, true), legacyName(label, false)
		value = strings.ToValidUTF8(value, "?")
		types := []dto.MetricType{dto.MetricType_COUNTER, dto.MetricType_GAUGE, dto.MetricType_UNTYPED}
		typ := types[int(kind)%len(types)]
		mf := &dto.MetricFamily{Name: &name, Help: &help, Type: &typ}
		want := map[string]float64{}
		for i, lv := range []string{value, value + "2"} {
			m := &dto.Metric{Label: []*dto.LabelPair{{Name: &label, Value: &lv}}}
			x := v * float64(i+1)
			switch typ {
			case dto.MetricType_COUNTER:
				m.Counter = &dto.Counter{Value: &x}
			case dto.MetricType_GAUGE:
				m.Gauge = &dto.Gauge{Value: &x}
			default:
				m.Untyped = &dto.Untyped{Value: &x}
			}
			if i == 1 {
				m.TimestampMs = &ts
			}
			mf.Metric = append(mf.Metric, m)
			want[name+"{"+label+`="`+escapeLabel(lv)+`"}`] = x
		}
		var text strings.Builder
		if _, err := expfmt.MetricFamilyToText(&text, mf); err != nil {
			t.Skip(err) // expfmt refuses it; nothing to parse
		}
		got, err := Parse(strings.NewReader(text.String()))
		if err != nil {
			t.Fatalf("Parse(%q): %v", text.String(), err)
		}
		if len(got) != len(want) {
			t.Fatalf("Parse(%q) = %v, want %v", text.String(), got, want)
		}
		for k, x := range want {
			if y, ok := got[k]; !ok || math.Float64bits(x) != math.Float64bits(y) && !(math.IsNaN(x) && math.IsNaN(y)) {
				t.Fatalf("Parse(%q)[%q] = %v, %v; want %v", text.String(), k, y, ok, x)
			}
		}

		// The same strings as raw text: no panic, and a map or an error.
		for _, raw := range []string{name, value, help} {
			if got, err := Parse(strings.NewReader(raw)); err == nil && got == nil {
				t.Fatal("nil map without an error")
			}
		}
	})
}

// legacyName maps s to a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or,
// when metric is false, a valid label name (no colons), so that expfmt
// prints it bare.
func legacyName(s string, metric bool) string {
	b := []byte(s)
	for i, c := range b {
		ok := c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' || metric && c == ':'
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) == 0 || !metric && len(b) >= 2 && b[0] == '_' && b[1] == '_' {
		return "l" + string(b) // empty, or a reserved __ label
	}
	return string(b)
}

// escapeLabel escapes a label value as the text format prints it.
func escapeLabel(v string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`).Replace(v)
}
