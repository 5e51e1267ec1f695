package envelope

import (
	"encoding/json"
	"strings"
	"testing"
)

var validCases = []string{
	`{}`, `[]`, ` {"a" : [1, -2.5e+3, true, false, null, "x\u00e9\n"]} `, `"\ud800"`, `0`, `-0.0E-0`,
	`{"id":1,"call":"market.history","args":{"symbol":"ACME","points":14}}`,
	"\"\xff\xfe\"", `{"a":{}}`, `[[],[[]],{}]`,
	``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,}`, `01`, `-`, `1.`, `.5`, `1e`, `1e+`,
	`+1`, `tru`, `nul`, `falsey`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\x01\"", `"abc`, `{} {}`, `[1 2]`,
	`{"a" 1}`, `{1:2}`, `[}`, `{]`, `"\`, `NaN`, "\t\n\r 1 \t",
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000),
	strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
}

func TestValid(t *testing.T) {
	t.Parallel()
	for _, c := range validCases {
		if got, want := valid([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("%.60q: valid %v, json.Valid %v", c, got, want)
		}
	}
}

// FuzzValid: valid agrees with json.Valid on every input.
func FuzzValid(f *testing.F) {
	for _, c := range validCases {
		if len(c) < 200 {
			f.Add([]byte(c))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := valid(b), json.Valid(b); got != want {
			t.Fatalf("%q: valid %v, json.Valid %v", b, got, want)
		}
	})
}

// BenchmarkValid against json.Valid on a call and a 1 KB publication.
func BenchmarkValid(b *testing.B) {
	msgs := map[string][]byte{
		"call":    []byte(`{"id":12,"call":"market.history","args":{"symbol":"ACME","points":14}}`),
		"pub-1KB": []byte(`{"id":3,"pub":"chat","data":{"text":"` + strings.Repeat("hello, world ", 78) + `"}}`),
	}
	for name, m := range msgs {
		b.Run(name+"/valid", func(b *testing.B) {
			b.SetBytes(int64(len(m)))
			for b.Loop() {
				if !valid(m) {
					b.Fatal("invalid")
				}
			}
		})
		b.Run(name+"/json.Valid", func(b *testing.B) {
			b.SetBytes(int64(len(m)))
			for b.Loop() {
				if !json.Valid(m) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
