package envelope

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// The Append functions below trust their json.RawMessage arguments to be
// valid JSON (an id returned by Parse, a result from json.Marshal); strings
// are escaped by AppendString. They append to dst and return the extended
// slice, allocating only when dst lacks room.

// AppendResult appends a successful reply, {"id":…,"result":…}. A nil id
// leaves "id" out; a nil or empty result is sent as {}.
func AppendResult(dst []byte, id, result json.RawMessage) []byte {
	dst = AppendResultHead(dst, id)
	if len(result) == 0 {
		return append(dst, "{}}"...)
	}
	dst = append(dst, result...)
	return append(dst, '}')
}

// MaxResultHead is the longest AppendResultHead output, in bytes, for an
// id Parse accepted.
const MaxResultHead = len(`{"id":,"result":`) + MaxIDLen

// AppendResultHead appends the start of a successful reply,
// {"id":…,"result": (without "id" for a nil id). The reply is this head,
// the result, and a closing '}': AppendResult in parts, for a result sent
// as it is, without a copy.
func AppendResultHead(dst []byte, id json.RawMessage) []byte {
	return append(appendID(dst, id), `"result":`...)
}

// AppendError appends an error reply,
// {"id":…,"error":{"code":…,"message":…}}. A nil id leaves "id" out.
func AppendError(dst []byte, id json.RawMessage, code, message string) []byte {
	dst = appendID(dst, id)
	dst = append(dst, `"error":{"code":`...)
	dst = AppendString(dst, code)
	dst = append(dst, `,"message":`...)
	dst = AppendString(dst, message)
	return append(dst, "}}"...)
}

// AppendPublication appends a publication pushed to subscribers,
// {"ch":…,"seq":…,"data":…,"epoch":…}. A nil or empty data is sent as
// null; an empty epoch (a publication without a number) is left out.
// The epoch comes last, so that a reader may find seq and data at the
// same place whether it is there or not.
func AppendPublication(dst []byte, channel string, seq uint64, epoch string, data json.RawMessage) []byte {
	dst = append(dst, `{"ch":`...)
	dst = AppendString(dst, channel)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"data":`...)
	if len(data) == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, data...)
	}
	if epoch != "" {
		dst = append(dst, `,"epoch":`...)
		dst = AppendString(dst, epoch)
	}
	return append(dst, '}')
}

// appendID opens an object and writes its "id" member when there is one.
func appendID(dst []byte, id json.RawMessage) []byte {
	if id == nil {
		return append(dst, '{')
	}
	dst = append(dst, `{"id":`...)
	dst = append(dst, id...)
	return append(dst, ',')
}

const hex = "0123456789abcdef"

// AppendString appends s as a quoted JSON string. It escapes '"', '\\',
// control characters, U+2028 and U+2029 (which end a line in JavaScript),
// and writes \ufffd for each byte of invalid UTF-8, as encoding/json does.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0 // s[start:i] is pending, needs no escaping
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
