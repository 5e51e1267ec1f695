package bench

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// parsePublication reads the seq and the data's "t" (Unix nanoseconds)
// from a /ws publication, {"ch":"…","seq":N,"data":{"t":T,…}}. It reads
// wsgate's member order without decoding the rest, and falls back to
// encoding/json for anything else that starts with {"ch":. ok is false
// for messages that are not publications stamped by fanout.
func parsePublication(b []byte) (seq uint64, t int64, ok bool) {
	if !bytes.HasPrefix(b, []byte(`{"ch":`)) {
		return 0, 0, false
	}
	if seq, t, ok := scanPublication(b[len(`{"ch":`):]); ok {
		return seq, t, true
	}
	var p struct {
		Ch   *string `json:"ch"`
		Seq  uint64  `json:"seq"`
		Data struct {
			T *int64 `json:"t"`
		} `json:"data"`
	}
	if json.Unmarshal(b, &p) != nil || p.Ch == nil || p.Data.T == nil {
		return 0, 0, false
	}
	return p.Seq, *p.Data.T, true
}

// scanPublication is the fast path of parsePublication: b starts at the
// channel's string.
func scanPublication(b []byte) (seq uint64, t int64, ok bool) {
	b, ok = skipString(b)
	if !ok {
		return 0, 0, false
	}
	if b, ok = bytes.CutPrefix(b, []byte(`,"seq":`)); !ok {
		return 0, 0, false
	}
	digits, b := leadingNumber(b)
	seq, err := strconv.ParseUint(string(digits), 10, 64)
	if err != nil {
		return 0, 0, false
	}
	if b, ok = bytes.CutPrefix(b, []byte(`,"data":`)); !ok {
		return 0, 0, false
	}
	b = bytes.TrimLeft(b, " \t\r\n")
	if b, ok = bytes.CutPrefix(b, []byte("{")); !ok {
		return 0, 0, false
	}
	b = bytes.TrimLeft(b, " \t\r\n")
	if b, ok = bytes.CutPrefix(b, []byte(`"t":`)); !ok {
		return 0, 0, false
	}
	b = bytes.TrimLeft(b, " \t\r\n")
	digits, b = leadingNumber(b)
	if len(b) == 0 || !bytes.ContainsAny(b[:1], ",} \t\r\n") {
		return 0, 0, false // not an integer (1.5, 2e3): encoding/json decides
	}
	t, err = strconv.ParseInt(string(digits), 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return seq, t, true
}

// skipString skips a JSON string at the start of b and returns the rest.
func skipString(b []byte) ([]byte, bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, false
	}
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return b[i+1:], true
		}
	}
	return nil, false
}

// leadingNumber splits b after its leading '-' and decimal digits.
func leadingNumber(b []byte) (num, rest []byte) {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return b[:i], b[i:]
}
