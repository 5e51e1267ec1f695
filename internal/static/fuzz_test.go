package static

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	xhtml "golang.org/x/net/html"
)

// FuzzFileName: whatever the URL path, a name fileName accepts is
// relative, clean, and has no part starting with '.'; a refusal is 400 or
// 404.
func FuzzFileName(f *testing.F) {
	for _, s := range []string{"/", "/a/b.js", "/docs/", "/../x", "/.env", "//x", "/a/./b", "/\x00", "/a/b/..", "/é/ü.txt"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		name, _, status := fileName(p)
		if status != 0 {
			if status != http.StatusBadRequest && status != http.StatusNotFound || name != "" {
				t.Fatalf("fileName(%q) = %q, %d", p, name, status)
			}
			return
		}
		if name == "" {
			return // the root
		}
		if strings.HasPrefix(name, "/") || strings.IndexByte(name, 0) >= 0 {
			t.Fatalf("fileName(%q) = %q", p, name)
		}
		for part := range strings.SplitSeq(name, "/") {
			if part == "" || strings.HasPrefix(part, ".") {
				t.Fatalf("fileName(%q) = %q: part %q", p, name, part)
			}
		}
	})
}

// FuzzAcceptEncoding: any field parses into weights of 0 to 1000, the
// coding chosen is available and acceptable unless none is (then
// identity), and no available coding outweighs it.
func FuzzAcceptEncoding(f *testing.F) {
	for _, s := range []string{"", "gzip, deflate, br", "br;q=0", "gzip;q=0.5, br;q=0.4", "identity;q=0", "*", "*;q=0, gzip", "x-gzip;Q=1.000", "br;q=0.0001", ";q=1,,"} {
		f.Add(s, true, true)
	}
	f.Fuzz(func(t *testing.T, field string, hasGzip, hasBr bool) {
		a := parseAcceptEncoding(field)
		available := [nCodings]bool{true, hasGzip, hasBr}
		c := a.choose(available)
		if !available[c] {
			t.Fatalf("%q: chose %s, not available", field, c.token())
		}
		for k := identity; k < nCodings; k++ {
			w := a.weight(k)
			if w < 0 || w > 1000 {
				t.Fatalf("%q: weight of %s %d", field, k.token(), w)
			}
			if available[k] && w > a.weight(c) {
				t.Fatalf("%q: chose %s (%d) over %s (%d)", field, c.token(), a.weight(c), k.token(), w)
			}
		}
		if a.weight(c) == 0 && c != identity {
			t.Fatalf("%q: chose refused %s", field, c.token())
		}
	})
}

// FuzzIfNoneMatch: a field's elements, once read, read back the same
// when written out again as a clean list; and a field matches a tag
// exactly when the tag is among its elements or "*" is.
func FuzzIfNoneMatch(f *testing.F) {
	for _, s := range []string{`"a"`, `W/"a", "b"`, `*`, ` , "x" ,`, `"a`, `"a" b`, "\"\x80\""} {
		f.Add(s, `"a"`)
	}
	f.Fuzz(func(t *testing.T, field, tag string) {
		var tags []string
		star := false
		for rest := field; ; {
			tg, st, r, ok := nextETag(rest)
			if !ok {
				break
			}
			if len(r) >= len(rest) {
				t.Fatalf("%q: no progress", field)
			}
			if st {
				star = true
			} else if len(tg) < 2 || tg[0] != '"' || tg[len(tg)-1] != '"' || strings.Contains(tg[1:len(tg)-1], `"`) {
				t.Fatalf("%q: tag %q", field, tg)
			}
			tags = append(tags, tg)
			rest = r
		}
		again := strings.Join(tags, ", ")
		var back []string
		for rest := again; ; {
			tg, _, r, ok := nextETag(rest)
			if !ok {
				break
			}
			back = append(back, tg)
			rest = r
		}
		if strings.Join(back, ", ") != again {
			t.Fatalf("%q: read %q, then %q", field, again, back)
		}
		want := star
		for _, tg := range tags {
			want = want || tg == tag
		}
		if got := noneMatch(field, tag); got != want {
			t.Fatalf("noneMatch(%q, %q) = %v, want %v", field, tag, got, want)
		}
	})
}

// FuzzRewriteHTML: a page whose URLs all stay is returned byte for byte;
// scanAttrs finds the attributes the tokenizer reads; and a page whose
// URLs all change has, tag for tag, the same attributes with those
// values changed and no other.
func FuzzRewriteHTML(f *testing.F) {
	for _, s := range []string{
		indexHTML,
		`<img src=a.png srcset="a.png 1x, b.png 2x">`,
		`<a href='x' href=y>`, `<img/src=a/>`, `<p =a b= c=>`, `<script>"<img src=a>"</script><img src=a>`,
		`<img src="a`, `<!--<img src=a>--><img src=a>`, "<img src=\x00>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, page []byte) {
		if got := rewriteHTML(page, func(string) (string, bool) { return "", false }, func(string) (string, bool) { return "", false }); !bytes.Equal(got, page) {
			t.Fatalf("unchanged page %q came back %q", page, got)
		}
		z := xhtml.NewTokenizer(bytes.NewReader(page))
		for {
			tt := z.Next()
			if tt == xhtml.ErrorToken {
				break
			}
			if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
				continue
			}
			raw := append([]byte(nil), z.Raw()...)
			var keys []string
			for _, more := z.TagName(); more; {
				var k []byte
				k, _, more = z.TagAttr()
				keys = append(keys, string(k))
			}
			var found []string
			for _, a := range scanAttrs(raw) {
				found = append(found, a.key)
			}
			if strings.Join(keys, " ") != strings.Join(found, " ") {
				t.Fatalf("tag %q: tokenizer reads %q, scanAttrs %q", raw, keys, found)
			}
		}
		mark := func(s string) (string, bool) { return "/u/" + s, true }
		out := rewriteHTML(page, mark, mark)
		before, after := tagAttrs(page), tagAttrs(out)
		if len(before) != len(after) {
			t.Fatalf("%q: %d tags, rewritten %q: %d", page, len(before), out, len(after))
		}
		for i := range before {
			if len(before[i]) != len(after[i]) {
				t.Fatalf("%q: tag %d has %v, rewritten %v", page, i, before[i], after[i])
			}
			for j, a := range before[i] {
				b := after[i][j]
				want := a.Val
				switch a.Key {
				case "src", "href", "poster":
					want = "/u/" + strings.Trim(a.Val, asciiSpace)
				case "srcset":
					want, _ = rewriteSrcset(a.Val, mark)
				}
				if b.Key != a.Key || b.Val != want && !(a.Key != "srcset" && b.Val == a.Val) {
					t.Fatalf("%q: attribute %v became %v in %q", page, a, b, out)
				}
			}
		}
	})
}

// tagAttrs lists the attributes of each start tag of page.
func tagAttrs(page []byte) [][]xhtml.Attribute {
	var tags [][]xhtml.Attribute
	z := xhtml.NewTokenizer(bytes.NewReader(page))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return tags
		}
		if tt == xhtml.StartTagToken || tt == xhtml.SelfClosingTagToken {
			tags = append(tags, z.Token().Attr)
		}
	}
}
