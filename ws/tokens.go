package ws

import (
	"net/http"
	"strings"
)

// HeaderTokens returns the comma-separated tokens of every h[name] line,
// trimmed of spaces and tabs, with empty ones left out and case kept. It
// does not understand quoted strings, so it suits token lists such as
// Upgrade, Connection and Sec-WebSocket-Protocol, not parameters.
func HeaderTokens(h http.Header, name string) []string {
	var tokens []string
	for _, line := range h.Values(name) {
		for t := range strings.SplitSeq(line, ",") {
			if t = strings.Trim(t, " \t"); t != "" {
				tokens = append(tokens, t)
			}
		}
	}
	return tokens
}

// HasToken reports whether one of the comma-separated tokens of the h[name]
// lines equals token, ignoring ASCII case (as RFC 9110 §7.8 and §7.6.1
// ask of Upgrade and Connection). It does not allocate.
func HasToken(h http.Header, name, token string) bool {
	for _, line := range h.Values(name) {
		for t := range strings.SplitSeq(line, ",") {
			if asciiEqualFold(strings.Trim(t, " \t"), token) {
				return true
			}
		}
	}
	return false
}

// asciiEqualFold reports whether a and b are equal ignoring ASCII case.
// Unlike strings.EqualFold it folds no other letter: "websoc\u212Aet",
// with a Kelvin sign, is not "websocket".
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// extensionNames returns the extension names of Sec-WebSocket-Extensions
// lines (RFC 6455 §9.1): the first token of each comma-separated element,
// with parameters dropped and commas inside quoted parameter values not
// taken as separators.
func extensionNames(lines []string) []string {
	var names []string
	for _, line := range lines {
		start, quoted := 0, false
		for i := 0; i <= len(line); i++ {
			if i < len(line) {
				switch c := line[i]; {
				case c == '"':
					quoted = !quoted
					continue
				case c == '\\' && quoted:
					i++
					continue
				case c != ',' || quoted:
					continue
				}
			}
			elem := line[start:min(i, len(line))]
			start = i + 1
			name, _, _ := strings.Cut(elem, ";")
			if name = strings.Trim(name, " \t"); name != "" {
				names = append(names, name)
			}
		}
	}
	return names
}
