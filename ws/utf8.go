package ws

import "unicode/utf8"

// utf8State is the state of UTF8Validator's DFA: what the bytes after a
// partial code point may be (Unicode 15, table 3-7).
type utf8State uint8

const (
	utf8Accept  utf8State = iota // between code points
	utf8Need1                    // one more byte in 80..BF
	utf8Need2                    // two more bytes in 80..BF
	utf8Need3                    // three more bytes in 80..BF
	utf8AfterE0                  // next in A0..BF, then one more (no overlong forms)
	utf8AfterED                  // next in 80..9F, then one more (no surrogates)
	utf8AfterF0                  // next in 90..BF, then two more (no overlong forms)
	utf8AfterF4                  // next in 80..8F, then two more (nothing above U+10FFFF)
	utf8Reject                   // the stream cannot be valid any more
)

// step returns the state after byte c.
func (s utf8State) step(c byte) utf8State {
	switch s {
	case utf8Accept:
		switch {
		case c < 0x80:
			return utf8Accept
		case c >= 0xC2 && c <= 0xDF:
			return utf8Need1
		case c == 0xE0:
			return utf8AfterE0
		case c == 0xED:
			return utf8AfterED
		case c >= 0xE1 && c <= 0xEF:
			return utf8Need2
		case c == 0xF0:
			return utf8AfterF0
		case c >= 0xF1 && c <= 0xF3:
			return utf8Need3
		case c == 0xF4:
			return utf8AfterF4
		}
		return utf8Reject // 80..C1 and F5..FF never start a code point
	case utf8Need1, utf8Need2, utf8Need3:
		if c >= 0x80 && c <= 0xBF {
			return s - 1
		}
	case utf8AfterE0:
		if c >= 0xA0 && c <= 0xBF {
			return utf8Need1
		}
	case utf8AfterED:
		if c >= 0x80 && c <= 0x9F {
			return utf8Need1
		}
	case utf8AfterF0:
		if c >= 0x90 && c <= 0xBF {
			return utf8Need2
		}
	case utf8AfterF4:
		if c >= 0x80 && c <= 0x8F {
			return utf8Need2
		}
	}
	return utf8Reject
}

// UTF8Validator checks a byte stream for valid UTF-8 as it arrives, in
// pieces split anywhere, even inside a code point. It fails fast: Write
// reports false as soon as a byte arrives that no continuation could make
// valid, which RFC 6455 §8.1 asks of text messages. The zero value is ready
// to use. A UTF8Validator is 1 byte of state and is not safe for
// concurrent use.
type UTF8Validator struct {
	state utf8State
}

// Write feeds p to the validator and reports whether the stream so far is
// still a prefix of valid UTF-8. Once it has returned false it returns false
// until Reset. p is only read.
func (v *UTF8Validator) Write(p []byte) bool {
	s := v.state
	if s == utf8Reject {
		return false
	}
	i := 0
	// Finish a code point left over from the previous Write.
	for s != utf8Accept && i < len(p) {
		s = s.step(p[i])
		i++
		if s == utf8Reject {
			v.state = s
			return false
		}
	}
	// Between code points: split off a code point left incomplete at the
	// end of p, check the rest in one go and walk the DFA over the tail, so
	// that a tail byte no continuation can fix is rejected now.
	rest := p[i:]
	cut := len(rest)
	for j := len(rest) - 1; j >= 0 && j >= len(rest)-3; j-- {
		if c := rest[j]; c < utf8.RuneSelf {
			break
		} else if utf8.RuneStart(c) {
			if !utf8.FullRune(rest[j:]) {
				cut = j
			}
			break
		}
	}
	if !utf8.Valid(rest[:cut]) {
		v.state = utf8Reject
		return false
	}
	for _, c := range rest[cut:] {
		if s = s.step(c); s == utf8Reject {
			v.state = s
			return false
		}
	}
	v.state = s
	return true
}

// Complete reports whether the stream so far is valid UTF-8 that does not
// end inside a code point.
func (v *UTF8Validator) Complete() bool { return v.state == utf8Accept }

// Reset makes v ready for a new stream.
func (v *UTF8Validator) Reset() { v.state = utf8Accept }
