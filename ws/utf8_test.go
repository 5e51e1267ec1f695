package ws

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestUTF8Validator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		failAt int // index of the first byte that makes the prefix invalid; -1 if none
	}{
		{"empty", "", -1},
		{"ascii", "hello, world, a longer ascii run", -1},
		{"two byte", "κόσμε", -1},
		{"three byte", "€ and ✓", -1},
		{"four byte", "𝄞𐍈", -1},
		{"max", "\U0010FFFF", -1},
		{"replacement char", "\uFFFD", -1},
		{"incomplete at end", "ab\xE2\x82", -1},
		{"lone continuation", "ab\x80", 2},
		{"C0 overlong", "\xC0\xAF", 0},
		{"C1 overlong", "\xC1\xBF", 0},
		{"E0 overlong", "\xE0\x80\xAF", 1},
		{"F0 overlong", "\xF0\x80\x80\xAF", 1},
		{"surrogate", "\xED\xA0\x80", 1},
		{"above max", "\xF4\x90\x80\x80", 1},
		{"F5", "a\xF5\x80\x80\x80", 1},
		{"FF", "\xFF", 0},
		{"bad second", "\xC2\x41", 1},
		{"bad third", "\xE2\x82\x41", 2},
		{"bad fourth", "\xF0\x9D\x84\x41", 3},
		{"after ascii run", "0123456789abcdef\xC0", 16},
		{"autobahn 6.3.1", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64", 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Fed byte by byte, Write fails exactly at failAt.
			var v UTF8Validator
			got := -1
			for i := range len(tt.in) {
				if !v.Write([]byte{tt.in[i]}) {
					got = i
					break
				}
			}
			if got != tt.failAt {
				t.Fatalf("byte by byte failed at %d, want %d", got, tt.failAt)
			}
			// Fed in two pieces split anywhere, the result is the same.
			for cut := 0; cut <= len(tt.in); cut++ {
				var v UTF8Validator
				ok := v.Write([]byte(tt.in[:cut]))
				if ok != (tt.failAt < 0 || tt.failAt >= cut) {
					t.Fatalf("cut %d: first piece ok = %v", cut, ok)
				}
				ok = v.Write([]byte(tt.in[cut:])) && ok
				if ok != (tt.failAt < 0) {
					t.Fatalf("cut %d: ok = %v", cut, ok)
				}
				if want := utf8.ValidString(tt.in); (ok && v.Complete()) != want {
					t.Fatalf("cut %d: complete = %v, utf8.Valid %v", cut, v.Complete(), want)
				}
			}
		})
	}
}

func TestUTF8ValidatorReset(t *testing.T) {
	t.Parallel()
	var v UTF8Validator
	if v.Write([]byte{0xFF}) || v.Write([]byte("a")) || v.Complete() {
		t.Fatal("a failed validator recovered without Reset")
	}
	v.Reset()
	if !v.Write([]byte("a")) || !v.Complete() {
		t.Fatal("Reset did not restore the validator")
	}
}

func FuzzUTF8Validator(f *testing.F) {
	f.Add([]byte("hello"), uint8(2))
	f.Add([]byte("κόσμε"), uint8(3))
	f.Add([]byte("\xED\xA0\x80"), uint8(1))
	f.Add([]byte("\xF4\x8F\xBF\xBF0123456789"), uint8(2))
	f.Add([]byte("0123456789\xE2\x82"), uint8(11))
	f.Fuzz(func(t *testing.T, b []byte, cut uint8) {
		want := utf8.Valid(b)
		var v UTF8Validator
		if got := v.Write(b) && v.Complete(); got != want {
			t.Fatalf("whole: got %v, utf8.Valid %v", got, want)
		}
		c := int(cut)
		if c > len(b) {
			c = len(b)
		}
		v.Reset()
		ok1 := v.Write(b[:c])
		ok := v.Write(b[c:]) && ok1
		if got := ok && v.Complete(); got != want {
			t.Fatalf("cut at %d: got %v, utf8.Valid %v", c, got, want)
		}
		// Fail fast: the first piece is rejected exactly when no bytes
		// appended to it could make it valid.
		if want := hasValidCompletion(b[:c]); ok1 != want {
			t.Fatalf("prefix %x: Write = %v, a valid completion exists: %v", b[:c], ok1, want)
		}
	})
}

// hasValidCompletion reports whether some bytes appended to p make it valid
// UTF-8. At most 3 bytes are needed; the first must fall in the narrowest
// ranges of table 3-7 (A0 after E0, 80..9F after ED, 90 after F0, 80..8F
// after F4), and 80 always serves for the others.
func hasValidCompletion(p []byte) bool {
	for k := 0; k <= 3; k++ {
		for _, first := range []byte{0x80, 0x90, 0xA0} {
			q := append([]byte(nil), p...)
			for i := range k {
				if i == 0 {
					q = append(q, first)
				} else {
					q = append(q, 0x80)
				}
			}
			if utf8.Valid(q) {
				return true
			}
		}
	}
	return false
}

func BenchmarkUTF8Validator(b *testing.B) {
	inputs := []struct {
		name string
		s    string
	}{
		{"ascii", strings.Repeat("The quick brown fox jumps over the lazy dog. ", 23)},
		{"mixed", strings.Repeat("Grüße, κόσμε, 世界 and 𝄞! ", 32)},
	}
	for _, in := range inputs {
		p := []byte(in.s)
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(p)))
			var v UTF8Validator
			for b.Loop() {
				v.Reset()
				if !v.Write(p) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
