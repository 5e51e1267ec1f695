package envelope

// MaxNameLen is the longest method or channel name, in bytes.
const MaxNameLen = 128

// ValidName reports whether s can name a method or a channel: 1 to
// MaxNameLen bytes of ASCII letters, digits and the characters . _ : / -,
// where '/' separates non-empty segments (no leading, trailing or double
// '/') and no segment is "." or "..". Method names are appended to a URL
// path when calls go to an HTTP backend; these rules keep every name a
// plain relative path that cannot climb out of the backend's prefix.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > MaxNameLen {
		return false
	}
	seg := 0 // start of the current segment
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '/' {
			switch s[seg:i] {
			case "", ".", "..":
				return false
			}
			seg = i + 1
			continue
		}
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}
