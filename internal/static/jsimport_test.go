package static

import (
	"bytes"
	"strings"
	"testing"
)

func TestLeadingSpecifiers(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		src  string
		want []string
	}{
		{`import "./a.js";`, []string{"./a.js"}},
		{`import x from './a.js'`, []string{"./a.js"}},
		{"\ufeff#!/usr/bin/env node\nimport x from './a.js'", []string{"./a.js"}},
		{`import x, {y as z, "q-r" as s} from "./a.js"; import * as n from "../b.js"`, []string{"./a.js", "../b.js"}},
		{"// c\n/* d */ import {a}\nfrom\n\"/c.js\"\nimport \"./d.js\"", []string{"/c.js", "./d.js"}},
		{`export * from "./a.js"; export * as ns from "./b.js"; export {a, b as c} from "./c.js";`, []string{"./a.js", "./b.js", "./c.js"}},
		{`export {a}; import "./a.js"`, []string{"./a.js"}},
		{`import data from "./d.json" with {type: "json"}; import "./e.js"`, []string{"./d.json", "./e.js"}},
		{`import data from "./d.json" assert {type: "json"}; import "./e.js"`, []string{"./d.json", "./e.js"}},
		{`import "./a.js"; const s = 'import "./b.js"'`, []string{"./a.js"}},
		{`import "./a.js"; import("./b.js")`, []string{"./a.js"}},
		{`import "./a.js"; if (import.meta) {}`, []string{"./a.js"}},
		{`export const x = 1; import "./a.js"`, nil},
		{`let x = /import "a"/`, nil},
		{`import "./\u0061.js"; import "./b.js"`, []string{"./b.js"}},
		{`import é from "./a.js"`, nil},
		{`import "./a.js`, nil},
		{"import \"./a\n.js\"", nil},
		{`/* unterminated import "./a.js"`, nil},
		{`import x from`, nil},
	} {
		var got []string
		for _, sp := range leadingSpecifiers([]byte(tt.src)) {
			got = append(got, tt.src[sp.start:sp.end])
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%q: %q, want %q", tt.src, got, tt.want)
		}
	}
}

// FuzzLeadingSpecifiers: every span found lies between matching quotes,
// in order, and rewriting none of them gives the script back.
func FuzzLeadingSpecifiers(f *testing.F) {
	for _, s := range []string{`import "./a.js"; export * from './b.js'`, `import x, {y} from "./a.js" with {type: "json"}`, "#!\nimport'a'", `export {a} from "b"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		last := 0
		specs := leadingSpecifiers(src)
		for _, sp := range specs {
			if sp.start < last+1 || sp.end < sp.start || sp.end >= len(src) {
				t.Fatalf("%q: span %v after %d", src, sp, last)
			}
			q := src[sp.start-1]
			if q != '"' && q != '\'' || src[sp.end] != q || bytes.IndexByte(src[sp.start:sp.end], q) >= 0 {
				t.Fatalf("%q: span %v not between quotes", src, sp)
			}
			last = sp.end
		}
		if got := rewriteSpecifiers(src, specs, func(string) (string, bool) { return "", false }); !bytes.Equal(got, src) {
			t.Fatalf("%q came back %q", src, got)
		}
	})
}
