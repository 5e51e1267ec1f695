package envelope

import "encoding/json"

// MaxNesting is the deepest a message may nest arrays and objects, its
// own braces counting as the first level, so args and data nest at most
// MaxNesting-1 deep. Parse answers a deeper message with a bad_request
// that says so, and carries its id when the id can be found.
const MaxNesting = 512

// leadingID returns the "id" member of the object b starts with, when a
// scan that assumes nothing of b (it checks every index and the syntax of
// what it skips) finds it and it is a valid id; nil otherwise. Parse uses
// it for a message it refused, to answer with the message's id.
func leadingID(b []byte) json.RawMessage {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil
	}
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != '"' {
			return nil
		}
		end, ok := skipValidString(b, i)
		if !ok {
			return nil
		}
		key := b[i:end]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil
		}
		i = skipSpace(b, i+1)
		if end, ok = skipAny(b, i); !ok {
			return nil
		}
		if string(unquote(key)) == "id" {
			if v := b[i:end]; validID(v) {
				return v
			}
			return nil
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ',' {
			return nil
		}
		i++
	}
}

// skipAny returns the end of the value at b[i]: a string, a number or
// literal up to the next delimiter, or an array or object however deep,
// its brackets counted without matching their kinds. ok is false when b
// ends first.
func skipAny(b []byte, i int) (end int, ok bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		return skipValidString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i, ok = skipValidString(b, i); !ok {
					return i, false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			i++
			if depth == 0 {
				return i, true
			}
		}
		return i, false
	}
	start := i
	for i < len(b) && !isDelim(b[i]) {
		i++
	}
	return i, i > start
}

// validID reports whether v is an id Parse accepts: a JSON number or
// string of at most MaxIDLen bytes.
func validID(v []byte) bool {
	if len(v) == 0 || len(v) > MaxIDLen {
		return false
	}
	if v[0] == '"' {
		end, ok := skipValidString(v, 0)
		return ok && end == len(v)
	}
	end, ok := skipNumber(v, 0)
	return ok && end == len(v)
}
