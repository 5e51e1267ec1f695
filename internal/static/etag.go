package static

import "strings"

// nextETag reads the first element of an entity-tag list (RFC 9110,
// section 8.8.3): it returns the element's opaque tag with its quotes and
// without any W/ prefix, star when the element is "*", and the rest of
// the list after the element's comma. ok is false when the list is empty
// or malformed from here on.
func nextETag(s string) (tag string, star bool, rest string, ok bool) {
	s = strings.TrimLeft(s, " \t,")
	if s == "" {
		return "", false, "", false
	}
	if s[0] == '*' {
		tag, rest = "*", s[1:]
		star = true
	} else {
		s = strings.TrimPrefix(s, "W/")
		if len(s) < 2 || s[0] != '"' {
			return "", false, "", false
		}
		end := 1
		for ; end < len(s) && s[end] != '"'; end++ {
			if c := s[end]; c != 0x21 && (c < 0x23 || c == 0x7f) {
				return "", false, "", false // not an etagc
			}
		}
		if end == len(s) {
			return "", false, "", false
		}
		tag, rest = s[:end+1], s[end+1:]
	}
	rest = strings.TrimLeft(rest, " \t")
	if rest != "" && rest[0] != ',' {
		return "", false, "", false
	}
	return tag, star, rest, true
}

// noneMatch reports whether an If-None-Match field value (field lines
// joined by commas) names etag, a quoted strong tag, by the weak
// comparison RFC 9110 (section 13.1.2) requires, or is "*". A malformed
// list matches only through the elements before the fault.
func noneMatch(field, etag string) bool {
	for {
		tag, star, rest, ok := nextETag(field)
		if !ok {
			return false
		}
		if star || tag == etag {
			return true
		}
		field = rest
	}
}
