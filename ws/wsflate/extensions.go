package wsflate

import (
	"fmt"
	"strings"
)

// Extension is one element of a Sec-WebSocket-Extensions header: an
// extension name and its parameters, in the order they were written
// (RFC 6455 §9.1). In a client's header each element is one offer.
type Extension struct {
	Name   string
	Params []Param
}

// Param is one extension parameter. Value is unquoted and unescaped;
// HasValue tells `p` (false) from `p=""` (true, empty Value).
type Param struct {
	Name     string
	Value    string
	HasValue bool
}

// ParseExtensions parses Sec-WebSocket-Extensions header lines (as
// http.Header.Values returns them) into their elements, in order. It
// follows RFC 6455 §9.1 with RFC 9110 lists: elements separated by commas
// (empty ones skipped), parameters by semicolons, optional spaces and tabs
// around separators, values as tokens or quoted strings with backslash
// escapes. Names keep their case.
//
// A line that breaks the grammar makes ParseExtensions return nil and an
// error wrapping ErrSyntax. The returned strings share memory with lines
// unless they had to be unescaped. Work and memory are linear in the input.
func ParseExtensions(lines []string) ([]Extension, error) {
	var exts []Extension
	for i, line := range lines {
		var err error
		if exts, err = parseLine(exts, line); err != nil {
			return nil, fmt.Errorf("%w: line %d: %s", ErrSyntax, i, err.Error())
		}
	}
	return exts, nil
}

// parseLine appends the elements of one header line to exts. Its errors
// are plain descriptions for ParseExtensions to wrap.
func parseLine(exts []Extension, s string) ([]Extension, error) {
	i := skipOWS(s, 0)
	for i < len(s) {
		if s[i] == ',' { // an empty list element
			i = skipOWS(s, i+1)
			continue
		}
		var e Extension
		var err error
		if e.Name, i, err = token(s, i); err != nil {
			return exts, err
		}
		i = skipOWS(s, i)
		for i < len(s) && s[i] == ';' {
			var p Param
			if p.Name, i, err = token(s, skipOWS(s, i+1)); err != nil {
				return exts, err
			}
			i = skipOWS(s, i)
			if i < len(s) && s[i] == '=' {
				p.HasValue = true
				i = skipOWS(s, i+1)
				if i < len(s) && s[i] == '"' {
					p.Value, i, err = quoted(s, i)
				} else {
					p.Value, i, err = token(s, i)
				}
				if err != nil {
					return exts, err
				}
				i = skipOWS(s, i)
			}
			e.Params = append(e.Params, p)
		}
		exts = append(exts, e)
		if i < len(s) {
			if s[i] != ',' {
				return exts, fmt.Errorf("unexpected %q at byte %d", s[i], i)
			}
			i = skipOWS(s, i+1)
		}
	}
	return exts, nil
}

// skipOWS returns the index of the first byte at or after i that is not a
// space or a tab.
func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// token returns the token starting at s[i] and the index after it; an
// empty token is an error.
func token(s string, i int) (string, int, error) {
	j := i
	for j < len(s) && isTchar(s[j]) {
		j++
	}
	if j == i {
		if i == len(s) {
			return "", i, fmt.Errorf("missing token at end")
		}
		return "", i, fmt.Errorf("unexpected %q at byte %d, want a token", s[i], i)
	}
	return s[i:j], j, nil
}

// quoted returns the unescaped content of the quoted string starting at
// s[i] == '"' and the index after its closing quote (RFC 9110 §5.6.4).
func quoted(s string, i int) (string, int, error) {
	start := i
	i++
	var b *strings.Builder // allocated only for escapes
	from := i
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			if b == nil {
				return s[from:i], i + 1, nil
			}
			b.WriteString(s[from:i])
			return b.String(), i + 1, nil
		case c == '\\':
			if i+1 >= len(s) || !isQuotedPairChar(s[i+1]) {
				return "", i, fmt.Errorf("bad escape at byte %d", i)
			}
			if b == nil {
				b = new(strings.Builder)
			}
			b.WriteString(s[from:i])
			i++
			from = i // the escaped byte is kept literally
		case !isQdtext(c):
			return "", i, fmt.Errorf("byte %#x at %d not allowed in a quoted string", c, i)
		}
	}
	return "", i, fmt.Errorf("unterminated quoted string at byte %d", start)
}

// isTchar reports whether c may appear in an RFC 9110 token.
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isQdtext reports whether c may appear unescaped in a quoted string.
func isQdtext(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E) || c >= 0x80
}

// isQuotedPairChar reports whether c may follow a backslash in a quoted
// string.
func isQuotedPairChar(c byte) bool {
	return c == '\t' || (c >= 0x20 && c <= 0x7E) || c >= 0x80
}

// isToken reports whether s is a non-empty token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

// String formats e as one header element, such as
// `permessage-deflate; client_max_window_bits=10`. A value that is not a
// token is written as a quoted string, so ParseExtensions reads back the
// same Extension.
func (e Extension) String() string {
	var b strings.Builder
	b.WriteString(e.Name)
	for _, p := range e.Params {
		b.WriteString("; ")
		b.WriteString(p.Name)
		if !p.HasValue {
			continue
		}
		b.WriteByte('=')
		if isToken(p.Value) {
			b.WriteString(p.Value)
			continue
		}
		b.WriteByte('"')
		for i := range len(p.Value) {
			if c := p.Value[i]; c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(p.Value[i])
		}
		b.WriteByte('"')
	}
	return b.String()
}
