package wsflate

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseExtensions(t *testing.T) {
	t.Parallel()
	type P = Param
	tests := []struct {
		name  string
		lines []string
		want  []Extension
		err   bool
	}{
		{"none", nil, nil, false},
		{"empty line", []string{""}, nil, false},
		{"only commas", []string{" , ,, "}, nil, false},
		{"bare", []string{"permessage-deflate"}, []Extension{{Name: "permessage-deflate"}}, false},
		{"chrome", []string{"permessage-deflate; client_max_window_bits"},
			[]Extension{{"permessage-deflate", []P{{"client_max_window_bits", "", false}}}}, false},
		{"several offers one line", []string{"permessage-deflate; server_max_window_bits=10, permessage-deflate"},
			[]Extension{{"permessage-deflate", []P{{"server_max_window_bits", "10", true}}}, {Name: "permessage-deflate"}}, false},
		{"several lines", []string{"x-foo", "permessage-deflate;client_no_context_takeover"},
			[]Extension{{Name: "x-foo"}, {"permessage-deflate", []P{{"client_no_context_takeover", "", false}}}}, false},
		{"spaces and tabs", []string{" \tfoo \t; \ta \t= \t1 \t, \tbar\t "},
			[]Extension{{"foo", []P{{"a", "1", true}}}, {Name: "bar"}}, false},
		{"quoted value", []string{`permessage-deflate; client_max_window_bits="10"`},
			[]Extension{{"permessage-deflate", []P{{"client_max_window_bits", "10", true}}}}, false},
		{"quoted comma and semicolon", []string{`x; a="1,2;3", y`},
			[]Extension{{"x", []P{{"a", "1,2;3", true}}}, {Name: "y"}}, false},
		{"quoted escapes", []string{`x; a="q\"u\\o\te"`},
			[]Extension{{"x", []P{{"a", `q"u\ote`, true}}}}, false},
		{"empty quoted", []string{`x; a=""`}, []Extension{{"x", []P{{"a", "", true}}}}, false},
		{"case kept", []string{"PerMessage-Deflate; Server_No_Context_Takeover"},
			[]Extension{{"PerMessage-Deflate", []P{{"Server_No_Context_Takeover", "", false}}}}, false},
		{"trailing comma", []string{"a,"}, []Extension{{Name: "a"}}, false},

		{"trailing semicolon", []string{"a;"}, nil, true},
		{"leading semicolon", []string{"; a"}, nil, true},
		{"empty param", []string{"a;;b"}, nil, true},
		{"missing value", []string{"a; b="}, nil, true},
		{"missing value before comma", []string{"a; b=, c"}, nil, true},
		{"unterminated quote", []string{`a; b="1`}, nil, true},
		{"dangling escape", []string{`a; b="1\`}, nil, true},
		{"control in quote", []string{"a; b=\"1\x01\""}, nil, true},
		{"space inside token", []string{"a b"}, nil, true},
		{"bad char", []string{"a; b=1/2"}, nil, true},
		{"quote in name", []string{`"a"`}, nil, true},
		{"junk after quote", []string{`a; b="1"x`}, nil, true},
		{"second line bad", []string{"a", "b;"}, nil, true},
		{"equals in name position", []string{"=a"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseExtensions(tt.lines)
			if tt.err {
				if !errors.Is(err, ErrSyntax) || got != nil {
					t.Fatalf("got %+v, %v; want nil, ErrSyntax", got, err)
				}
				if !strings.HasPrefix(err.Error(), "wsflate: ") {
					t.Errorf("error %q lacks the package prefix", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestExtensionStringRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   Extension
		want string
	}{
		{Extension{Name: "permessage-deflate"}, "permessage-deflate"},
		{Extension{"x", []Param{{"a", "", false}, {"b", "10", true}}}, "x; a; b=10"},
		{Extension{"x", []Param{{"a", "", true}}}, `x; a=""`},
		{Extension{"x", []Param{{"a", `1,"2"\3`, true}}}, `x; a="1,\"2\"\\3"`},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
		back, err := ParseExtensions([]string{tt.want})
		if err != nil || len(back) != 1 || !reflect.DeepEqual(back[0], tt.in) {
			t.Errorf("parse %q = %+v, %v; want %+v", tt.want, back, err, tt.in)
		}
	}
}

func FuzzParseExtensions(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_max_window_bits=10; client_no_context_takeover, permessage-deflate",
		`x; a="1,2;3\"", y`,
		" , ,a;b=c",
		`a; b="1`,
		"a;",
		"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
	} {
		f.Add(s, "x-second")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		exts, err := ParseExtensions([]string{a, b})
		if err != nil {
			if !errors.Is(err, ErrSyntax) || exts != nil {
				t.Fatalf("error %v with %d extensions", err, len(exts))
			}
			return
		}
		// Formatting and parsing again gives the same elements.
		var parts []string
		for _, e := range exts {
			parts = append(parts, e.String())
		}
		again, err := ParseExtensions([]string{strings.Join(parts, ", ")})
		if err != nil || len(again) != len(exts) {
			t.Fatalf("reparse of %q: %d extensions, %v; want %d", parts, len(again), err, len(exts))
		}
		for i := range exts {
			if !sameExtension(exts[i], again[i]) {
				t.Fatalf("reparse: %+v != %+v", again[i], exts[i])
			}
		}
		// Negotiation never panics and answers a valid response.
		resp, p := negotiate(exts, ModeNoContextTakeover)
		if resp == "" {
			return
		}
		got, ok2, err := parseResponse([]string{resp})
		if err != nil || !ok2 || got != p {
			t.Fatalf("response %q parses to %+v, %v, %v; want %+v", resp, got, ok2, err, p)
		}
	})
}

// sameExtension compares two extensions, treating nil and empty Params
// alike.
func sameExtension(a, b Extension) bool {
	if a.Name != b.Name || len(a.Params) != len(b.Params) {
		return false
	}
	for i := range a.Params {
		if a.Params[i] != b.Params[i] {
			return false
		}
	}
	return true
}
