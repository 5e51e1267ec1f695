package static

import (
	"bytes"
	"html"
	"strings"

	xhtml "golang.org/x/net/html"
)

// rewriteHTML returns page with the URLs of its src, href, poster and
// srcset attributes passed through ref, which answers a new URL and true
// for a URL to replace, and the specifiers of the leading imports of its
// inline <script type=module> passed through spec likewise (see
// leadingSpecifiers). Everything else is copied byte for byte:
// golang.org/x/net/html finds the tags (so comments, scripts and styles
// are left alone) and their decoded attribute values, and scanAttrs
// finds where those values sit in the raw tag. A replaced value is
// written escaped, in double quotes. rewriteHTML returns page itself when
// nothing changed.
func rewriteHTML(page []byte, ref, spec func(string) (string, bool)) []byte {
	z := xhtml.NewTokenizer(bytes.NewReader(page))
	var out []byte
	done := 0 // bytes of page consumed by the tokens read so far
	changed := false
	module := false // the token before was <script type=module>
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		raw := z.Raw()
		if done+len(raw) > len(page) || !bytes.Equal(raw, page[done:done+len(raw)]) {
			return page // the tokenizer's bytes are not the page's: change nothing
		}
		start := done
		done += len(raw)
		var repl []byte
		switch {
		case tt == xhtml.StartTagToken || tt == xhtml.SelfClosingTagToken:
			var isModule bool
			repl, isModule = rewriteTag(z, raw, ref)
			module = isModule && tt == xhtml.StartTagToken
		case tt == xhtml.TextToken && module:
			if code := rewriteSpecifiers(raw, leadingSpecifiers(raw), spec); !bytes.Equal(code, raw) {
				repl = code
			}
			module = false
		default:
			module = false
		}
		if repl != nil && !changed {
			out = append(out, page[:start]...)
			changed = true
		}
		switch {
		case repl != nil:
			out = append(out, repl...)
		case changed:
			out = append(out, raw...)
		}
	}
	if !changed {
		return page
	}
	return append(out, page[done:]...)
}

// rewriteTag rewrites the URL attributes of the start tag the tokenizer
// z has just read, whose bytes are raw: tag is nil when none changed.
// module tells whether it is a <script type=module>.
func rewriteTag(z *xhtml.Tokenizer, raw []byte, ref func(string) (string, bool)) (tag []byte, module bool) {
	type attr struct{ key, val string }
	var decoded []attr
	name, more := z.TagName()
	for more {
		var k, v []byte
		k, v, more = z.TagAttr()
		decoded = append(decoded, attr{string(k), string(v)})
		if string(name) == "script" && string(k) == "type" && strings.EqualFold(strings.Trim(string(v), asciiSpace), "module") {
			module = true
		}
	}
	located := scanAttrs(raw)
	if len(located) != len(decoded) {
		return nil, module
	}
	last := 0
	changed := false
	for i, a := range located {
		if a.key != decoded[i].key {
			return nil, module
		}
		var v string
		var ok bool
		switch a.key {
		case "src", "href", "poster":
			v, ok = ref(strings.Trim(decoded[i].val, asciiSpace))
		case "srcset":
			v, ok = rewriteSrcset(decoded[i].val, ref)
		}
		if !ok || a.start == a.end {
			continue
		}
		tag = append(tag, raw[last:a.start]...)
		tag = append(tag, '"')
		tag = append(tag, html.EscapeString(v)...)
		tag = append(tag, '"')
		last = a.end
		changed = true
	}
	if !changed {
		return nil, module
	}
	return append(tag, raw[last:]...), module
}

// asciiSpace is what HTML strips around a URL in an attribute.
const asciiSpace = " \t\n\f\r"

// rawAttr is where an attribute's value sits in a raw tag: raw[start:end]
// is the value with its quotes, empty when the attribute has none.
type rawAttr struct {
	key        string // as the tokenizer gives it: A-Z folded, NUL as U+FFFD
	start, end int
}

// scanAttrs finds the attributes of a raw start tag ("<img src=a.png>")
// as golang.org/x/net/html reads them (WHATWG HTML, sections
// 13.2.5.32-39), keeping like it only the first of a repeated name and no
// empty name.
func scanAttrs(raw []byte) []rawAttr {
	isSpace := func(c byte) bool { return strings.IndexByte(asciiSpace, c) >= 0 }
	i := 1 // past '<'
	for i < len(raw) && !isSpace(raw[i]) && raw[i] != '/' && raw[i] != '>' {
		i++
	}
	skipSpace := func() {
		for i < len(raw) && isSpace(raw[i]) {
			i++
		}
	}
	var attrs []rawAttr
	seen := map[string]bool{}
	for {
		skipSpace()
		if i >= len(raw) || raw[i] == '>' {
			return attrs
		}
		// The key: a first '=' belongs to it; then up to space, '/', '>' or '='.
		ks := i
		for ; i < len(raw); i++ {
			c := raw[i]
			if c == '=' && i == ks {
				continue
			}
			if isSpace(c) || c == '/' || c == '>' || c == '=' {
				break
			}
		}
		key := asciiLower(raw[ks:i])
		vs, ve := i, i
		skipSpace()
		switch {
		case i < len(raw) && raw[i] == '/':
			i++
		case i < len(raw) && raw[i] == '=':
			i++
			skipSpace()
			switch {
			case i >= len(raw) || raw[i] == '>':
				vs, ve = i, i
			case raw[i] == '"' || raw[i] == '\'':
				vs = i
				if j := bytes.IndexByte(raw[i+1:], raw[i]); j >= 0 {
					i += j + 2
				} else {
					i = len(raw)
				}
				ve = i
			default:
				vs = i
				for i < len(raw) && !isSpace(raw[i]) && raw[i] != '>' {
					i++
				}
				ve = i
			}
		}
		if key != "" && !seen[key] {
			seen[key] = true
			// The tokenizer's names have U+FFFD for NUL.
			attrs = append(attrs, rawAttr{strings.ReplaceAll(key, "\x00", "\uFFFD"), vs, ve})
		}
	}
}

// asciiLower is b with A-Z in lower case, as the tokenizer folds names.
func asciiLower(b []byte) string {
	out := []byte(string(b))
	for i, c := range out {
		if 'A' <= c && c <= 'Z' {
			out[i] = c + 'a' - 'A'
		}
	}
	return string(out)
}

// rewriteSrcset passes each image candidate's URL of a srcset value
// ("a.png 1x, b.png 2x") through ref, keeping the descriptors and
// separators as they are.
func rewriteSrcset(s string, ref func(string) (string, bool)) (string, bool) {
	var b strings.Builder
	changed := false
	i := 0
	for i < len(s) {
		// Separators before a candidate.
		j := i
		for j < len(s) && (strings.IndexByte(asciiSpace, s[j]) >= 0 || s[j] == ',') {
			j++
		}
		b.WriteString(s[i:j])
		// The URL runs to the next space; trailing commas end the candidate.
		k := j
		for k < len(s) && strings.IndexByte(asciiSpace, s[k]) < 0 {
			k++
		}
		u := strings.TrimRight(s[j:k], ",")
		if u != "" {
			if v, ok := ref(u); ok {
				b.WriteString(v)
				changed = true
			} else {
				b.WriteString(u)
			}
		}
		i = j + len(u)
		if len(u) < k-j {
			continue // commas right after the URL: no descriptors
		}
		// Descriptors run to the next comma outside parentheses.
		depth := 0
		for k = i; k < len(s); k++ {
			if s[k] == '(' {
				depth++
			} else if s[k] == ')' && depth > 0 {
				depth--
			} else if s[k] == ',' && depth == 0 {
				break
			}
		}
		b.WriteString(s[i:k])
		i = k
	}
	if !changed {
		return s, false
	}
	return b.String(), true
}

// hasBaseHref reports whether page has a <base href>, which changes what
// its relative URLs resolve against.
func hasBaseHref(page []byte) bool {
	z := xhtml.NewTokenizer(bytes.NewReader(page))
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			return false
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name, more := z.TagName()
			if string(name) != "base" {
				continue
			}
			for more {
				var k []byte
				k, _, more = z.TagAttr()
				if string(k) == "href" {
					return true
				}
			}
		}
	}
}
