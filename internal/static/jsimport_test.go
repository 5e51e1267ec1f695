package static

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"testing/fstest"
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

// TestModulesRewritten: imports between modules point at fingerprinted
// URLs, dependencies hashed first, so a change deep in the graph changes
// every fingerprint above it; inside a cycle imports stay plain.
func TestModulesRewritten(t *testing.T) {
	t.Parallel()
	tree := func(util string) fstest.MapFS {
		return fstest.MapFS{
			"index.html":   {Data: []byte(`<script type="module" src="js/main.js"></script>`)},
			"js/main.js":   {Data: []byte("import {u} from \"./util.js\";\nimport '../lib/a.js'\nimport x from \"lodash\";\nimport d from \"./data.json\" with {type: \"json\"};\nconsole.log(u, x, d, 'import \"./util.js\"');\n")},
			"js/util.js":   {Data: []byte(util)},
			"js/data.json": {Data: []byte(`{"a":1}`)},
			"lib/a.js":     {Data: []byte(`import "./b.js"; export const a = 1;`)},
			"lib/b.js":     {Data: []byte(`import "./a.js"; import "../js/util.js";`)},
			"js/self.js":   {Data: []byte(`import "./self.js";`)},
			"inline.html":  {Data: []byte("<script type=\"module\">import {u} from \"./js/util.js\"; import \"lodash\";</script><script>import \"./js/util.js\"</script><SCRIPT TYPE=' Module '>import '/js/util.js'</SCRIPT>")},
		}
	}
	for _, cdn := range []string{"", "https://cdn.example.com"} {
		h, err := New(tree("export const u = 1;"), Options{CDNURL: cdn})
		if err != nil {
			t.Fatal(err)
		}
		hash := func(name string) string { return hashOf(t, h, name) }
		body := func(name string) string {
			t.Helper()
			resp, body := get(h, "GET", "/"+name)
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d", name, resp.StatusCode)
			}
			if sum := sha256.Sum256([]byte(body)); resp.Header.Get("ETag") != `"`+hex.EncodeToString(sum[:])[:hashLen]+`"` {
				t.Errorf("%s: ETag %s is not the hash of the bytes served", name, resp.Header.Get("ETag"))
			}
			return body
		}
		for name, want := range map[string]string{
			"js/main.js": "import {u} from \"./util." + hash("js/util.js") + ".js\";\nimport '../lib/a." + hash("lib/a.js") + ".js'\nimport x from \"lodash\";\nimport d from \"./data." + hash("js/data.json") + ".json\" with {type: \"json\"};\nconsole.log(u, x, d, 'import \"./util.js\"');\n",
			"lib/a.js":   `import "./b.js"; export const a = 1;`,
			"lib/b.js":   `import "./a.js"; import "../js/util.` + hash("js/util.js") + `.js";`,
			"js/self.js": `import "./self.js";`,
			"js/util.js": "export const u = 1;",
		} {
			if got := body(name); got != want {
				t.Errorf("CDN %q: %s:\n%s\nwant\n%s", cdn, name, got, want)
			}
		}
		wantPage := `<script type="module" src="js/main.` + hash("js/main.js") + `.js"></script>`
		if cdn != "" {
			wantPage = `<script type="module" src="` + cdn + `/js/main.` + hash("js/main.js") + `.js"></script>`
		}
		if got := body("index.html"); got != wantPage {
			t.Errorf("page %s, want %s", got, wantPage)
		}
		util := "./js/util." + hash("js/util.js") + ".js"
		rootUtil := "/js/util." + hash("js/util.js") + ".js"
		if cdn != "" {
			util, rootUtil = cdn+"/js/util."+hash("js/util.js")+".js", cdn+"/js/util."+hash("js/util.js")+".js"
		}
		wantInline := "<script type=\"module\">import {u} from \"" + util + "\"; import \"lodash\";</script><script>import \"./js/util.js\"</script><SCRIPT TYPE=' Module '>import '" + rootUtil + "'</SCRIPT>"
		if got := body("inline.html"); got != wantInline {
			t.Errorf("inline modules:\n%s\nwant\n%s", got, wantInline)
		}
		// A change in util.js reaches every fingerprint above it.
		h2, err := New(tree("export const u = 2;"), Options{CDNURL: cdn})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"js/util.js", "js/main.js", "lib/b.js", "index.html", "inline.html"} {
			if hashOf(t, h2, name) == hash(name) {
				t.Errorf("%s kept its hash when util.js changed", name)
			}
		}
		if hashOf(t, h2, "lib/a.js") != hash("lib/a.js") {
			t.Error("lib/a.js, which imports b.js by its plain name (a cycle), changed its hash")
		}
	}
}
