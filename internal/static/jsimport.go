package static

import "bytes"

// specSpan is where a module specifier sits in a script: src[start:end]
// is the string literal's content, without its quotes.
type specSpan struct{ start, end int }

// leadingSpecifiers finds the module specifiers of the import and
// export-from declarations a JavaScript module starts with:
//
//	import "./a.js";  import x, {y as z} from "./b.js";  import * as n from '../c.js'
//	export * from "./d.js";  export {e} from "./e.js" with {type: "json"}
//
// It reads only that leading run of declarations (with comments and
// white space between them) and stops at the first thing that is not one
// of them, or that it does not understand: a statement, a dynamic
// import(…), a non-ASCII name. What follows is never looked at, so no
// string, regular expression or template elsewhere in the script can be
// taken for a specifier. A specifier written with a backslash escape is
// not reported.
func leadingSpecifiers(src []byte) []specSpan {
	s := jsScanner{src: src}
	if bytes.HasPrefix(src, []byte("\xef\xbb\xbf")) {
		s.i = 3
	}
	if bytes.HasPrefix(src[s.i:], []byte("#!")) {
		for s.i < len(src) && src[s.i] != '\n' {
			s.i++
		}
	}
	var specs []specSpan
	for {
		switch s.ident() {
		case "import":
			s.skip()
			if s.peek() == '(' || s.peek() == '.' {
				return specs // import(…) or import.meta: an expression
			}
			if s.peek() != '"' && s.peek() != '\'' && !s.clause() {
				return specs
			}
		case "export":
			s.skip()
			switch s.peek() {
			case '*':
				s.i++
				if save := s.i; s.ident() != "as" {
					s.i = save
				} else if !s.name() {
					return specs
				}
			case '{':
				if !s.braces() {
					return specs
				}
				if s.skip(); s.peek() != 'f' {
					s.semicolon()
					continue // export {a}: no specifier
				}
			default:
				return specs
			}
			if s.ident() != "from" {
				return specs
			}
		default:
			return specs
		}
		sp, ok := s.str()
		if !ok {
			return specs
		}
		if sp.start >= 0 {
			specs = append(specs, sp)
		}
		if save := s.i; s.ident() != "with" && s.reset(save) && s.ident() != "assert" {
			s.i = save
		} else if !s.braces() {
			return specs // import attributes not understood
		}
		s.semicolon()
	}
}

// jsScanner reads the tokens of a module's leading declarations.
type jsScanner struct {
	src []byte
	i   int
}

func (s *jsScanner) reset(i int) bool { s.i = i; return true }

// skip passes white space and comments.
func (s *jsScanner) skip() {
	for s.i < len(s.src) {
		switch c := s.src[s.i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			s.i++
		case bytes.HasPrefix(s.src[s.i:], []byte("//")):
			for s.i < len(s.src) && s.src[s.i] != '\n' {
				s.i++
			}
		case bytes.HasPrefix(s.src[s.i:], []byte("/*")):
			end := bytes.Index(s.src[s.i+2:], []byte("*/"))
			if end < 0 {
				s.i = len(s.src)
				return
			}
			s.i += 2 + end + 2
		default:
			return
		}
	}
}

// peek is the next byte after white space and comments, 0 at the end.
func (s *jsScanner) peek() byte {
	s.skip()
	if s.i >= len(s.src) {
		return 0
	}
	return s.src[s.i]
}

func isIdentByte(c byte, first bool) bool {
	return c == '_' || c == '$' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || !first && '0' <= c && c <= '9'
}

// ident reads an ASCII identifier, "" when there is none.
func (s *jsScanner) ident() string {
	s.skip()
	start := s.i
	for s.i < len(s.src) && isIdentByte(s.src[s.i], s.i == start) {
		s.i++
	}
	if s.i < len(s.src) && s.src[s.i] >= 0x80 {
		s.i = start
		return "" // a non-ASCII name: not understood
	}
	return string(s.src[start:s.i])
}

// name reads an identifier or a string, as after "as".
func (s *jsScanner) name() bool {
	if c := s.peek(); c == '"' || c == '\'' {
		_, ok := s.str()
		return ok
	}
	return s.ident() != ""
}

// str reads a string literal; start is -1 when it holds an escape.
func (s *jsScanner) str() (specSpan, bool) {
	q := s.peek()
	if q != '"' && q != '\'' {
		return specSpan{}, false
	}
	start := s.i + 1
	escaped := false
	for j := start; j < len(s.src); j++ {
		switch s.src[j] {
		case q:
			s.i = j + 1
			if escaped {
				return specSpan{-1, -1}, true
			}
			return specSpan{start, j}, true
		case '\\':
			escaped = true
			j++
		case '\n', '\r':
			return specSpan{}, false
		}
	}
	return specSpan{}, false
}

// clause reads an import clause up to and including "from":
// "x", "* as n", "{a, b as c}", "x, {a}", "x, * as n".
func (s *jsScanner) clause() bool {
	for {
		switch c := s.peek(); {
		case c == '{':
			if !s.braces() {
				return false
			}
		case c == '*':
			s.i++
			if s.ident() != "as" || s.ident() == "" {
				return false
			}
		case c == ',':
			s.i++
		default:
			switch s.ident() {
			case "from":
				return true
			case "":
				return false
			}
		}
	}
}

// braces reads a { … } of names, strings, "as", ':' and ','.
func (s *jsScanner) braces() bool {
	if s.peek() != '{' {
		return false
	}
	s.i++
	for {
		switch c := s.peek(); {
		case c == '}':
			s.i++
			return true
		case c == ',' || c == ':':
			s.i++
		case c == '"' || c == '\'':
			if _, ok := s.str(); !ok {
				return false
			}
		default:
			if s.ident() == "" {
				return false
			}
		}
	}
}

// semicolon passes an optional ';'.
func (s *jsScanner) semicolon() {
	if s.peek() == ';' {
		s.i++
	}
}

// rewriteSpecifiers returns src with each span's specifier passed
// through ref, which answers the new one and true to replace it; src
// itself when none changed. A new specifier must need no escaping in the
// quotes it goes between.
func rewriteSpecifiers(src []byte, specs []specSpan, ref func(string) (string, bool)) []byte {
	var out []byte
	last := 0
	for _, sp := range specs {
		v, ok := ref(string(src[sp.start:sp.end]))
		if !ok || bytes.ContainsAny([]byte(v), "\"'\\\n\r") {
			continue
		}
		out = append(out, src[last:sp.start]...)
		out = append(out, v...)
		last = sp.end
	}
	if out == nil {
		return src
	}
	return append(out, src[last:]...)
}
