package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"unicode/utf8"
)

// echoSizes are the message sizes, in bytes, echoed in each direction:
// empty, the edges of the 7-bit, 16-bit and 64-bit length encodings
// (RFC 6455, section 5.2) and one large message.
var echoSizes = [...]int{0, 1, 125, 126, 65535, 65536, 8 << 20}

// deflateSizes are the sizes of the compressed echo cases: empty, around
// the server's 256-byte compression threshold, a typical JSON reply and
// large messages.
var deflateSizes = [...]int{0, 1, 255, 256, 257, 4096, 65536, 1 << 20}

// jsonPayload returns n bytes of JSON-like ASCII text, the first n bytes of
// [{"i":0,"symbol":"ACME","price":100},{"i":1,… (the scripts build the same).
func jsonPayload(n int) []byte {
	b := make([]byte, 0, n+64)
	b = append(b, '[')
	for i := 0; len(b) < n; i++ {
		b = fmt.Appendf(b, `{"i":%d,"symbol":"ACME","price":%d},`, i, 100+i%37)
	}
	return b[:n]
}

// sizeLabel names a size in a case name.
func sizeLabel(n int) string {
	if n == 8<<20 {
		return "8MiB"
	}
	if n == 1<<20 {
		return "1MiB"
	}
	return fmt.Sprint(n)
}

// textPayload returns exactly n bytes of valid UTF-8 mixing 1-, 2-, 3- and
// 4-byte characters whose values depend on their position, so a lost,
// repeated or reordered chunk shows. The scripts build the same bytes.
func textPayload(n int) []byte {
	b := make([]byte, 0, n)
	for i := 0; len(b) < n; i++ {
		w := 1 + i%4
		if w > n-len(b) {
			w = 1
		}
		var r rune
		switch w {
		case 1:
			r = rune(0x21 + i*7%94)
		case 2:
			r = rune(0x80 + i*13%0x780)
		case 3:
			r = rune(0x800 + i*17%(0xd800-0x800))
		default:
			r = rune(0x10000 + i*19%0x100000)
		}
		b = utf8.AppendRune(b, r)
	}
	return b
}

// binaryPayload returns n bytes from xorshift32 seeded with n+1, as the
// Node script does.
func binaryPayload(n int) []byte {
	b := make([]byte, n)
	x := uint32(n + 1)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// diffBytes describes the first difference between want and got, or
// returns "" when they are equal.
func diffBytes(want, got []byte) string {
	if bytes.Equal(want, got) {
		return ""
	}
	if len(want) != len(got) {
		return fmt.Sprintf("length: sent %d bytes, got %d", len(want), len(got))
	}
	for i := range want {
		if want[i] != got[i] {
			return fmt.Sprintf("first difference at byte %d: sent %#x, got %#x", i, want[i], got[i])
		}
	}
	return ""
}

// jsonEqual reports whether a and b hold the same JSON value, ignoring
// white space and the order of object members.
func jsonEqual(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

func TestTextPayload(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 2, 3, 4, 9, 10, 11, 125, 126, 65535, 65536} {
		b := textPayload(n)
		if len(b) != n || !utf8.Valid(b) {
			t.Errorf("textPayload(%d): %d bytes, valid UTF-8 %v", n, len(b), utf8.Valid(b))
		}
	}
	// Every width of character occurs.
	counts := map[int]int{}
	for _, r := range string(textPayload(1000)) {
		counts[utf8.RuneLen(r)]++
	}
	for w := 1; w <= 4; w++ {
		if counts[w] == 0 {
			t.Errorf("textPayload(1000) has no %d-byte character", w)
		}
	}
}

func TestPayloadHelpers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		want, got []byte
		diff      string
	}{
		{"equal", []byte("abc"), []byte("abc"), ""},
		{"both empty", nil, []byte{}, ""},
		{"shorter", []byte("abc"), []byte("ab"), "length: sent 3 bytes, got 2"},
		{"changed", []byte("abc"), []byte("abd"), "first difference at byte 2: sent 0x63, got 0x64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := diffBytes(tt.want, tt.got); got != tt.diff {
				t.Errorf("diffBytes = %q, want %q", got, tt.diff)
			}
		})
	}
	if !jsonEqual([]byte(`{"a":1,"b":[true,null]}`), []byte(` { "b" : [true, null], "a" : 1.0 } `)) {
		t.Error("jsonEqual: same value written two ways is unequal")
	}
	if jsonEqual([]byte(`{"a":1}`), []byte(`{"a":"1"}`)) {
		t.Error("jsonEqual: number and string are equal")
	}
	if a, b := binaryPayload(64), binaryPayload(64); !bytes.Equal(a, b) || bytes.Equal(a, binaryPayload(65)[:64]) {
		t.Error("binaryPayload is not a function of n alone")
	}
}
