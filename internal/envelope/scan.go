package envelope

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// scanner walks the members of a JSON object that json.Valid has already
// accepted, so it checks nothing and never runs past the end of b. It only
// finds where values start and end; values are returned raw.
type scanner struct {
	b []byte
	i int
}

// fields holds the raw values of the members Parse knows, nil when absent.
type fields struct {
	id, call, sub, unsub, pub, auth, args, data, since []byte
}

// fields reads the top-level object. It returns the name of the first known
// member given more than once, or "" when there is none; the later value wins.
func (s *scanner) fields() (f fields, dup string) {
	for {
		key, val, ok := s.next()
		if !ok {
			return f, dup
		}
		var p *[]byte
		switch string(key) {
		case "id":
			p = &f.id
		case "call":
			p = &f.call
		case "sub":
			p = &f.sub
		case "unsub":
			p = &f.unsub
		case "pub":
			p = &f.pub
		case "auth":
			p = &f.auth
		case "args":
			p = &f.args
		case "data":
			p = &f.data
		case "since":
			p = &f.since
		default:
			continue
		}
		if *p != nil && (dup == "" || string(key) == "id") {
			dup = string(key) // id wins: a duplicated id must not be echoed
		}
		*p = val
	}
}

// next returns the next member of the object the scanner is in: its name,
// unescaped, and its raw value. The first call must find the scanner on the
// object's '{'. ok is false after the closing '}'.
func (s *scanner) next() (key, val []byte, ok bool) {
	s.skipSpace()
	if s.b[s.i] == '}' {
		s.i++
		return nil, nil, false
	}
	s.i++ // '{' or ','
	s.skipSpace()
	if s.b[s.i] == '}' { // empty object
		s.i++
		return nil, nil, false
	}
	rawKey := s.value()
	s.skipSpace()
	s.i++ // ':'
	s.skipSpace()
	val = s.value()
	return unquote(rawKey), val, true
}

// value skips the value at s.i and returns it.
func (s *scanner) value() []byte {
	start := s.i
	switch s.b[s.i] {
	case '"':
		s.skipString()
	case '{', '[':
		depth := 0
		for {
			switch s.b[s.i] {
			case '"':
				s.skipString()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				break
			}
		}
	default: // number, true, false, null
		for s.i < len(s.b) && !isDelim(s.b[s.i]) {
			s.i++
		}
	}
	return s.b[start:s.i]
}

// skipString moves s.i past the string that starts at s.i.
func (s *scanner) skipString() {
	s.i++
	for {
		switch s.b[s.i] {
		case '\\':
			s.i += 2
		case '"':
			s.i++
			return
		default:
			s.i++
		}
	}
}

func (s *scanner) skipSpace() {
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
	}
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isDelim(c byte) bool { return c == ',' || c == '}' || c == ']' || isSpace(c) }

// unquote returns the contents of the valid JSON string raw, with invalid
// UTF-8 replaced by U+FFFD as encoding/json does. It allocates only when raw
// holds escapes or invalid UTF-8.
func unquote(raw []byte) []byte {
	in := raw[1 : len(raw)-1]
	if bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) {
		return in
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil // unreachable: raw is valid JSON
	}
	return []byte(s)
}

// decodeString returns the string that the valid JSON value raw holds, and
// false when raw is not a string.
func decodeString(raw []byte) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	return string(unquote(raw)), true
}
