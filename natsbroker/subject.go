package natsbroker

import (
	"errors"
	"strings"
)

// errBadToken is returned by decodeToken for a string that encodeToken
// never returns.
var errBadToken = errors.New("natsbroker: not an encoded channel name")

// encodeToken maps a channel name onto one NATS subject token. Letters,
// digits, '-', '_', ':' and '/' stand for themselves; every other byte
// (the '.' that separates NATS tokens, '$', '%', spaces, non-ASCII
// bytes, …) becomes '%' and two upper-case hex digits, as in a URL. The
// empty name, which is no valid channel, becomes "%", which decodes to
// nothing else. The result is never empty, holds only printable ASCII
// without '.', '*', '>' or spaces, so it is always a valid literal token,
// and decodeToken(encodeToken(s)) == s for every s: the map is one to one.
func encodeToken(channel string) string {
	if channel == "" {
		return "%"
	}
	n := len(channel)
	for i := 0; i < len(channel); i++ {
		if !plain(channel[i]) {
			n += 2
		}
	}
	if n == len(channel) {
		return channel
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(n)
	for i := 0; i < len(channel); i++ {
		c := channel[i]
		if plain(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// decodeToken is the inverse of encodeToken. It accepts exactly the
// strings encodeToken returns: an escape of a byte that stands for
// itself, or lower-case hex, is refused, so that no two tokens decode to
// one name.
func decodeToken(token string) (string, error) {
	if token == "%" {
		return "", nil
	}
	if token == "" {
		return "", errBadToken
	}
	if !strings.Contains(token, "%") {
		for i := 0; i < len(token); i++ {
			if !plain(token[i]) {
				return "", errBadToken
			}
		}
		return token, nil
	}
	var b strings.Builder
	b.Grow(len(token))
	for i := 0; i < len(token); i++ {
		c := token[i]
		switch {
		case plain(c):
			b.WriteByte(c)
		case c == '%' && i+2 < len(token):
			hi, ok1 := unhex(token[i+1])
			lo, ok2 := unhex(token[i+2])
			v := hi<<4 | lo
			if !ok1 || !ok2 || plain(v) {
				return "", errBadToken
			}
			b.WriteByte(v)
			i += 2
		default:
			return "", errBadToken
		}
	}
	return b.String(), nil
}

// plain reports whether c stands for itself in a token.
func plain(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '-', c == '_', c == ':', c == '/':
		return true
	}
	return false
}

// unhex decodes one upper-case hex digit.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
