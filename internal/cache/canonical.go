package cache

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrInvalidArgs is wrapped by every error about args that are not one
// valid JSON value.
var ErrInvalidArgs = errors.New("cache: args are not valid JSON")

// maxDepth bounds the nesting of arrays and objects AppendCanonical accepts.
const maxDepth = 512

// AppendCanonical appends the canonical form of the JSON value in src to
// dst and returns the extended slice. Two values that differ only in the
// order of object members, in insignificant whitespace or in how strings
// are escaped have the same canonical form:
//
//   - whitespace outside strings is dropped;
//   - object members are ordered by their canonical names, bytewise; the
//     members of a name given twice keep their order;
//   - strings are unescaped, then escaped again with the fewest escapes:
//     only ", \ and control characters are escaped, with \b \f \n \r \t or
//     \u00xx; a lone surrogate stays a lowercase \udxxx escape;
//   - numbers are kept as written (1, 1.0 and 1e0 differ), and so are
//     bytes that are not valid UTF-8.
//
// On error, the returned error wraps ErrInvalidArgs and dst holds
// unspecified extra bytes. AppendCanonical allocates to grow dst and, when
// src holds objects, for scratch space (the cache reuses its own).
func AppendCanonical(dst, src []byte) ([]byte, error) {
	dst, _, err := appendCanonical(dst, src, nil)
	return dst, err
}

// appendCanonical is AppendCanonical with the caller's scratch space for
// object members, returned grown for reuse.
func appendCanonical(dst, src []byte, members []member) ([]byte, []member, error) {
	p := canonicalizer{src: src, members: members[:0]}
	p.skipSpace()
	dst, err := p.value(dst, 0)
	if err == nil {
		p.skipSpace()
		if p.pos != len(p.src) {
			err = p.fail("data after the value")
		}
	}
	return dst, p.members, err
}

// member locates one object member already written to dst.
type member struct {
	start, keyEnd, end int
}

type canonicalizer struct {
	src     []byte
	pos     int
	members []member // a stack: each open object owns the tail it appended
}

func (p *canonicalizer) fail(what string) error {
	return &argsError{what: what, offset: p.pos}
}

// argsError says what is wrong with args and where.
type argsError struct {
	what   string
	offset int
}

func (e *argsError) Error() string {
	return "cache: args are not valid JSON: " + e.what + " at byte " + strconv.Itoa(e.offset)
}

func (e *argsError) Unwrap() error { return ErrInvalidArgs }

func (p *canonicalizer) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *canonicalizer) value(dst []byte, depth int) ([]byte, error) {
	if p.pos >= len(p.src) {
		return dst, p.fail("unexpected end")
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object(dst, depth+1)
	case c == '[':
		return p.array(dst, depth+1)
	case c == '"':
		return p.str(dst)
	case c == '-' || '0' <= c && c <= '9':
		return p.number(dst)
	case c == 't':
		return p.literal(dst, "true")
	case c == 'f':
		return p.literal(dst, "false")
	case c == 'n':
		return p.literal(dst, "null")
	}
	return dst, p.fail("unexpected character")
}

func (p *canonicalizer) literal(dst []byte, lit string) ([]byte, error) {
	if !bytes.HasPrefix(p.src[p.pos:], []byte(lit)) {
		return dst, p.fail("invalid literal")
	}
	p.pos += len(lit)
	return append(dst, lit...), nil
}

func (p *canonicalizer) number(dst []byte) ([]byte, error) {
	s, i := p.src, p.pos
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = digits(s, i)
	default:
		return dst, p.fail("invalid number")
	}
	if i < len(s) && s[i] == '.' {
		j := digits(s, i+1)
		if j == i+1 {
			return dst, p.fail("invalid number")
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(s, i)
		if j == i {
			return dst, p.fail("invalid number")
		}
		i = j
	}
	dst = append(dst, s[p.pos:i]...)
	p.pos = i
	return dst, nil
}

func digits(s []byte, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

func (p *canonicalizer) array(dst []byte, depth int) ([]byte, error) {
	if depth > maxDepth {
		return dst, p.fail("nested too deeply")
	}
	p.pos++ // [
	dst = append(dst, '[')
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		return append(dst, ']'), nil
	}
	for {
		var err error
		if dst, err = p.value(dst, depth); err != nil {
			return dst, err
		}
		p.skipSpace()
		if p.pos >= len(p.src) {
			return dst, p.fail("unexpected end")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
			dst = append(dst, ',')
		case ']':
			p.pos++
			return append(dst, ']'), nil
		default:
			return dst, p.fail("want , or ]")
		}
	}
}

func (p *canonicalizer) object(dst []byte, depth int) ([]byte, error) {
	if depth > maxDepth {
		return dst, p.fail("nested too deeply")
	}
	p.pos++ // {
	dst = append(dst, '{')
	start := len(dst)
	base := len(p.members)
	defer func() { p.members = p.members[:base] }()
	sorted := true
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return append(dst, '}'), nil
	}
	for {
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return dst, p.fail("want a member name")
		}
		m := member{start: len(dst)}
		var err error
		if dst, err = p.str(dst); err != nil {
			return dst, err
		}
		m.keyEnd = len(dst)
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return dst, p.fail("want :")
		}
		p.pos++
		p.skipSpace()
		dst = append(dst, ':')
		if dst, err = p.value(dst, depth); err != nil {
			return dst, err
		}
		m.end = len(dst)
		if n := len(p.members); n > base {
			prev := p.members[n-1]
			if bytes.Compare(dst[prev.start:prev.keyEnd], dst[m.start:m.keyEnd]) > 0 {
				sorted = false
			}
		}
		p.members = append(p.members, m)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return dst, p.fail("unexpected end")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
			dst = append(dst, ',')
		case '}':
			p.pos++
			if !sorted {
				dst = reorder(dst, start, p.members[base:])
			}
			return append(dst, '}'), nil
		default:
			return dst, p.fail("want , or }")
		}
	}
}

// reorder rewrites the members written to dst[start:] in the order of their
// names, comma-separated. It uses the tail of dst as scratch space.
func reorder(dst []byte, start int, ms []member) []byte {
	slices.SortStableFunc(ms, func(a, b member) int {
		return bytes.Compare(dst[a.start:a.keyEnd], dst[b.start:b.keyEnd])
	})
	end := len(dst)
	dst = append(dst, dst[start:end]...)
	scratch := end - start // offset of a member's copy: its position + scratch
	w := start
	for i, m := range ms {
		if i > 0 {
			dst[w] = ','
			w++
		}
		w += copy(dst[w:], dst[m.start+scratch:m.end+scratch])
	}
	return dst[:end]
}

// str appends the canonical form of the string at p.pos.
func (p *canonicalizer) str(dst []byte) ([]byte, error) {
	s := p.src
	i := p.pos + 1 // after the opening quote
	dst = append(dst, '"')
	for {
		j := i
		for j < len(s) && s[j] != '"' && s[j] != '\\' && s[j] >= 0x20 {
			j++
		}
		dst = append(dst, s[i:j]...)
		if j >= len(s) {
			p.pos = j
			return dst, p.fail("unterminated string")
		}
		switch s[j] {
		case '"':
			p.pos = j + 1
			return append(dst, '"'), nil
		case '\\':
			if j+1 >= len(s) {
				p.pos = j
				return dst, p.fail("unterminated string")
			}
			var r rune
			switch e := s[j+1]; e {
			case '"', '\\', '/':
				r, i = rune(e), j+2
			case 'b':
				r, i = '\b', j+2
			case 'f':
				r, i = '\f', j+2
			case 'n':
				r, i = '\n', j+2
			case 'r':
				r, i = '\r', j+2
			case 't':
				r, i = '\t', j+2
			case 'u':
				var ok bool
				if r, ok = hex4(s, j+2); !ok {
					p.pos = j
					return dst, p.fail("invalid \\u escape")
				}
				i = j + 6
				if utf16.IsSurrogate(r) {
					if r2, ok := hex4(s, i+2); ok && r < 0xdc00 && i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if c := utf16.DecodeRune(r, r2); c != utf8.RuneError {
							dst = utf8.AppendRune(dst, c)
							i += 6
							continue
						}
					}
					dst = appendU(dst, r) // a lone surrogate has no UTF-8 form
					continue
				}
			default:
				p.pos = j
				return dst, p.fail("invalid escape")
			}
			dst = appendRune(dst, r)
		default: // a raw control character
			p.pos = j
			return dst, p.fail("control character in string")
		}
	}
}

// appendRune appends r as it appears in a canonical string.
func appendRune(dst []byte, r rune) []byte {
	switch r {
	case '"', '\\':
		return append(dst, '\\', byte(r))
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	if r < 0x20 {
		return appendU(dst, r)
	}
	return utf8.AppendRune(dst, r)
}

// appendU appends the escape \uxxxx of r with lowercase hex digits.
func appendU(dst []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(dst, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}

// hex4 decodes the four hex digits at s[i:i+4].
func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
