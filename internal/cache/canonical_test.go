package cache

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestAppendCanonical(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"scalars", ` 1 `, `1`},
		{"number as written", `[1.0, 1e0, -0, 1E+2]`, `[1.0,1e0,-0,1E+2]`},
		{"literals", "[true ,false,\tnull]", `[true,false,null]`},
		{"empty object", ` { } `, `{}`},
		{"empty array", ` [ ] `, `[]`},
		{"sorted stays", `{"a":1,"b":2}`, `{"a":1,"b":2}`},
		{"members sorted", `{"symbol":"ACME", "points" : 500}`, `{"points":500,"symbol":"ACME"}`},
		{"nested", `{"z":{"y":1,"x":[{"b":1,"a":2}]},"a":null}`, `{"a":null,"z":{"x":[{"a":2,"b":1}],"y":1}}`},
		{"duplicates keep order", `{"b":1,"a":1,"a":2}`, `{"a":1,"a":2,"b":1}`},
		{"escaped names sort by value", `{"\u0062":1,"a":2}`, `{"a":2,"b":1}`},
		{"escapes minimised", `"\/\u0041\u00e9\n\u000a\u001F\""`, `"/Aé\n\n\u001f\""`},
		{"surrogate pair", `"\ud83d\ude00"`, `"😀"`},
		{"lone surrogate", `"\uD800x"`, `"\ud800x"`},
		{"reversed surrogates", `"\udc00\ud800"`, `"\udc00\ud800"`},
		{"raw utf-8 kept", `"é😀"`, `"é😀"`},
		{"invalid utf-8 kept", "\"\xff\"", "\"\xff\""},
		{"many members", `{"j":0,"i":0,"h":0,"g":0,"f":0,"e":0,"d":0,"c":0,"b":0,"a":0}`, `{"a":0,"b":0,"c":0,"d":0,"e":0,"f":0,"g":0,"h":0,"i":0,"j":0}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := AppendCanonical([]byte("prefix:"), []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "prefix:"+tt.want {
				t.Errorf("AppendCanonical(%s) = %s, want %s", tt.in, got[7:], tt.want)
			}
		})
	}
}

func TestAppendCanonicalWide(t *testing.T) {
	t.Parallel()
	// More members than the on-stack span array holds, in reverse order.
	var in, want strings.Builder
	in.WriteByte('{')
	want.WriteByte('{')
	for i := 99; i >= 0; i-- {
		if i != 99 {
			in.WriteByte(',')
		}
		in.WriteString(`"k` + string(rune('a'+i/10)) + string(rune('a'+i%10)) + `":{"y":1,"x":2}`)
	}
	for i := range 100 {
		if i != 0 {
			want.WriteByte(',')
		}
		want.WriteString(`"k` + string(rune('a'+i/10)) + string(rune('a'+i%10)) + `":{"x":2,"y":1}`)
	}
	in.WriteByte('}')
	want.WriteByte('}')
	got, err := AppendCanonical(nil, []byte(in.String()))
	if err != nil || string(got) != want.String() {
		t.Fatalf("got %s, %v", got, err)
	}
}

func TestAppendCanonicalErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		``, ` `, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{a:1}`, `[1,]`, `[1 2]`, `01`, `1.`, `.5`, `1e`, `-`, `+1`,
		`tru`, `nul`, `"abc`, `"\x"`, `"\u12"`, `"\u12G4"`, "\"a\x01\"", `1 2`, `{} x`, `"\`,
		strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
	} {
		if _, err := AppendCanonical(nil, []byte(in)); !errors.Is(err, ErrInvalidArgs) {
			t.Errorf("AppendCanonical(%q): %v, want ErrInvalidArgs", in, err)
		}
	}
	deep := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	if _, err := AppendCanonical(nil, []byte(deep)); err != nil {
		t.Errorf("depth %d: %v", maxDepth, err)
	}
}

func FuzzAppendCanonical(f *testing.F) {
	for _, s := range []string{
		`{"symbol":"ACME","points":500}`, `[1.0,1e0,-0]`, `"\ud83d\ude00\ud800"`, `{"b":1,"a":1,"a":2}`,
		`{"z":{"y":1,"x":[{"b":1,"a":2}]},"a":null}`, "\"\xff\\u0000\"", `{"a":1,}`, `01`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := AppendCanonical(nil, in)
		if err != nil {
			if json.Valid(in) && !strings.Contains(err.Error(), "nested too deeply") {
				t.Fatalf("valid JSON %q rejected: %v", in, err)
			}
			return
		}
		if !json.Valid(in) {
			t.Fatalf("invalid JSON %q accepted as %q", in, out)
		}
		again, err := AppendCanonical(nil, out)
		if err != nil || string(again) != string(out) {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, out, again, err)
		}
		if strings.IndexByte(string(out), 0) >= 0 {
			t.Fatalf("NUL byte in %q", out)
		}
		if a, b := decode(t, in), decode(t, out); !reflect.DeepEqual(a, b) {
			t.Fatalf("meaning changed: %q (%#v) -> %q (%#v)", in, a, out, b)
		}
	})
}

func decode(t *testing.T, b []byte) any {
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}
