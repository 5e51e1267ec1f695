package envelope

// maxNesting is the deepest nesting of arrays and objects valid accepts,
// encoding/json's limit.
const maxNesting = 10000

// valid reports whether b is exactly one JSON value (RFC 8259), with
// optional whitespace around it: json.Valid's answer, including its
// nesting limit and its acceptance of bytes that are not UTF-8 inside
// strings. It is a single pass without recursion or allocation, several
// times faster than json.Valid on the small messages of the envelope.
func valid(b []byte) bool {
	ok, _ := validNested(b, maxNesting)
	return ok
}

// validNested is valid with a nesting limit of its own, at most
// maxNesting: tooDeep reports that b is not accepted because it nests
// arrays and objects deeper than limit (what follows is not looked at).
func validNested(b []byte, limit int) (ok, tooDeep bool) {
	var objects [(maxNesting + 63) / 64]uint64 // bit d set: level d+1 is an object
	depth, i := 0, skipSpace(b, 0)
value:
	if i >= len(b) {
		return false, false
	}
	switch c := b[i]; {
	case c == '{' || c == '[':
		if depth == limit {
			return false, true
		}
		if c == '{' {
			objects[depth/64] |= 1 << (depth % 64)
		} else {
			objects[depth/64] &^= 1 << (depth % 64)
		}
		depth++
		i = skipSpace(b, i+1)
		if i < len(b) && (b[i] == '}' && c == '{' || b[i] == ']' && c == '[') {
			i++
			depth--
			goto after
		}
		if c == '{' {
			goto key
		}
		goto value
	case c == '"':
		if i, ok = skipValidString(b, i); !ok {
			return false, false
		}
	case c == '-' || '0' <= c && c <= '9':
		if i, ok = skipNumber(b, i); !ok {
			return false, false
		}
	case c == 't':
		if i, ok = skipLiteral(b, i, "true"); !ok {
			return false, false
		}
	case c == 'f':
		if i, ok = skipLiteral(b, i, "false"); !ok {
			return false, false
		}
	case c == 'n':
		if i, ok = skipLiteral(b, i, "null"); !ok {
			return false, false
		}
	default:
		return false, false
	}
after:
	i = skipSpace(b, i)
	if depth == 0 {
		return i == len(b), false
	}
	if i >= len(b) {
		return false, false
	}
	if objects[(depth-1)/64]&(1<<((depth-1)%64)) != 0 {
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
			goto key
		case '}':
			i++
			depth--
			goto after
		}
		return false, false
	}
	switch b[i] {
	case ',':
		i = skipSpace(b, i+1)
		goto value
	case ']':
		i++
		depth--
		goto after
	}
	return false, false
key:
	if i >= len(b) || b[i] != '"' {
		return false, false
	}
	if i, ok = skipValidString(b, i); !ok {
		return false, false
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return false, false
	}
	i = skipSpace(b, i+1)
	goto value
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipValidString returns the index after the string starting at b[i]
// ('"'), and false when it is not a valid JSON string.
func skipValidString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			i++
			if i >= len(b) {
				return i, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return i, false
				}
				for _, h := range b[i+1 : i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return i, false
					}
				}
				i += 4
			default:
				return i, false
			}
		}
	}
	return i, false
}

// skipNumber returns the index after the number starting at b[i], and
// false when it is not a valid JSON number.
func skipNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return i, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return i, false
		}
		i = j
	}
	return i, true
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

func skipLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}
