package wsflate

import (
	"bytes"
	"testing"
)

// splice builds the payload that inflates to head, msg and tail, with msg
// compressed by c for window w; ok is false when msg does not compress.
func splice(c *Codec, head, msg, tail []byte, w Window) (payload []byte, ok bool) {
	z, ok := c.Deflate(nil, msg, w)
	if !ok {
		return nil, false
	}
	payload = AppendStored(nil, head)
	payload = append(payload, z...)
	return AppendStoredTail(payload, tail), true
}

// checkSplice inflates payload with the standard library, a fresh
// klauspost decoder and the Codec, and wants want from each.
func checkSplice(t *testing.T, c *Codec, payload, want []byte) {
	t.Helper()
	for name, inflate := range map[string]func([]byte) ([]byte, error){
		"compress/flate": stdInflate,
		"klauspost":      kpInflate,
		"Codec.Inflate":  func(z []byte) ([]byte, error) { return c.Inflate(nil, z, int64(len(want))) },
	} {
		got, err := inflate(payload)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes, %v; want %d bytes", name, len(got), err, len(want))
		}
	}
}

func TestSplice(t *testing.T) {
	t.Parallel()
	var c Codec
	msg := jsonish(4096)
	tests := []struct {
		name       string
		head, tail []byte
	}{
		{"reply", []byte(`{"id":12345,"result":`), []byte(`}`)},
		{"no head", nil, []byte(`}`)},
		{"no tail", []byte(`{"id":"x","result":`), nil},
		{"neither", nil, nil},
		{"head of one block", bytes.Repeat([]byte{'h'}, maxStored), []byte(`}`)},
		{"head of two blocks", bytes.Repeat([]byte{'h'}, maxStored+1), []byte(`}`)},
		{"tail of one block", []byte(`[`), bytes.Repeat([]byte{'t'}, maxStored)},
		{"tail of three blocks", []byte(`[`), random(2*maxStored+7, 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, w := range []Window{WindowFull, WindowSmall} {
				payload, ok := splice(&c, tt.head, msg, tt.tail, w)
				if !ok {
					t.Fatalf("%v: message did not compress", w)
				}
				want := append(append(append([]byte{}, tt.head...), msg...), tt.tail...)
				checkSplice(t, &c, payload, want)
				if wantLen := deflatedLen(&c, msg, w) + len(tt.head) + framing(len(tt.head)) + len(tt.tail) + tailFraming(len(tt.tail)); len(payload) != wantLen {
					t.Fatalf("%v: payload %d bytes, want %d", w, len(payload), wantLen)
				}
			}
		})
	}
}

func deflatedLen(c *Codec, msg []byte, w Window) int {
	z, _ := c.Deflate(nil, msg, w)
	return len(z)
}

// framing is what AppendStored adds to n bytes.
func framing(n int) int { return 5 * ((n + maxStored - 1) / maxStored) }

// tailFraming is what AppendStoredTail adds to n bytes.
func tailFraming(n int) int {
	if n == 0 {
		return 0
	}
	return 4 + framing(n-min(n, maxStored)) + 1
}

// TestStoredBytes pins the wire form of the framing.
func TestStoredBytes(t *testing.T) {
	t.Parallel()
	if got, want := AppendStored([]byte{9}, []byte("ab")), []byte{9, 0x00, 0x02, 0x00, 0xfd, 0xff, 'a', 'b'}; !bytes.Equal(got, want) {
		t.Errorf("AppendStored: % x, want % x", got, want)
	}
	if got, want := AppendStoredTail(nil, []byte("}")), []byte{0x01, 0x00, 0xfe, 0xff, '}', 0x00}; !bytes.Equal(got, want) {
		t.Errorf("AppendStoredTail: % x, want % x", got, want)
	}
	if got := AppendStored(nil, nil); len(got) != 0 {
		t.Errorf("AppendStored(nil): % x", got)
	}
}

// FuzzSplice: whatever the head, message and tail, a spliced payload
// inflates to their concatenation with every decoder.
func FuzzSplice(f *testing.F) {
	f.Add([]byte(`{"id":1,"result":`), jsonish(300), []byte(`}`))
	f.Add([]byte{}, jsonish(1000), []byte{})
	f.Add([]byte{0, 0, 0xff, 0xff}, bytes.Repeat([]byte{0}, 500), []byte{0, 0, 0xff, 0xff})
	var c Codec
	f.Fuzz(func(t *testing.T, head, msg, tail []byte) {
		for _, w := range []Window{WindowFull, WindowSmall} {
			payload, ok := splice(&c, head, msg, tail, w)
			if !ok {
				continue
			}
			want := append(append(append([]byte{}, head...), msg...), tail...)
			checkSplice(t, &c, payload, want)
		}
	})
}
