package ws

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		want Header
		n    int
		code StatusCode // non-zero: want a *ProtocolError with this code
	}{
		{name: "empty", in: nil},
		{name: "one byte", in: []byte{0x81}},
		{name: "text 5", in: []byte{0x81, 0x05}, want: Header{Fin: true, Opcode: OpText, Length: 5}, n: 2},
		{name: "no fin binary 0", in: []byte{0x02, 0x00}, want: Header{Opcode: OpBinary}, n: 2},
		{name: "rsv bits", in: []byte{0xF1, 0x00}, want: Header{Fin: true, Rsv: Rsv1 | Rsv2 | Rsv3, Opcode: OpText}, n: 2},
		{name: "reserved opcode kept", in: []byte{0x8B, 0x00}, want: Header{Fin: true, Opcode: 0xB}, n: 2},
		{name: "masked short", in: []byte{0x81, 0x85, 1, 2, 3}},
		{name: "masked", in: []byte{0x81, 0x85, 1, 2, 3, 4, 'x'}, want: Header{Fin: true, Opcode: OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: 5}, n: 6},
		{name: "len 125", in: []byte{0x82, 125}, want: Header{Fin: true, Opcode: OpBinary, Length: 125}, n: 2},
		{name: "len16 short", in: []byte{0x82, 126, 0}},
		{name: "len16 126", in: []byte{0x82, 126, 0, 126}, want: Header{Fin: true, Opcode: OpBinary, Length: 126}, n: 4},
		{name: "len16 max", in: []byte{0x82, 126, 0xFF, 0xFF}, want: Header{Fin: true, Opcode: OpBinary, Length: 0xFFFF}, n: 4},
		{name: "len16 non-minimal", in: []byte{0x82, 126, 0, 125}, code: StatusProtocolError},
		{name: "len16 zero", in: []byte{0x82, 126, 0, 0}, code: StatusProtocolError},
		{name: "len64 short", in: []byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0}},
		{name: "len64 65536", in: []byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}, want: Header{Fin: true, Opcode: OpBinary, Length: 65536}, n: 10},
		{name: "len64 max", in: []byte{0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 9, 9, 9, 9}, want: Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: [4]byte{9, 9, 9, 9}, Length: 1<<63 - 1}, n: 14},
		{name: "len64 non-minimal", in: []byte{0x82, 127, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, code: StatusProtocolError},
		{name: "len64 top bit", in: []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, code: StatusProtocolError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, n, err := ParseHeader(tt.in)
			if tt.code != 0 {
				var pe *ProtocolError
				if !errors.As(err, &pe) || pe.Code != tt.code {
					t.Fatalf("err = %v, want code %d", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if h != tt.want || n != tt.n {
				t.Fatalf("got %+v, %d; want %+v, %d", h, n, tt.want, tt.n)
			}
			if n == 0 {
				return
			}
			if HeaderSize(h) != n {
				t.Errorf("HeaderSize = %d, want %d", HeaderSize(h), n)
			}
			if got := AppendHeader(nil, h); !bytes.Equal(got, tt.in[:n]) {
				t.Errorf("AppendHeader = %x, want %x", got, tt.in[:n])
			}
		})
	}
}

func TestAppendHeaderSizes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		length int64
		masked bool
		size   int
	}{
		{0, false, 2}, {125, false, 2}, {126, false, 4}, {0xFFFF, false, 4},
		{0x10000, false, 10}, {1<<63 - 1, false, 10},
		{0, true, 6}, {126, true, 8}, {0x10000, true, 14},
	}
	for _, tt := range tests {
		h := Header{Fin: true, Opcode: OpBinary, Masked: tt.masked, Length: tt.length}
		if tt.masked {
			h.Mask = [4]byte{1, 2, 3, 4}
		}
		b := AppendHeader([]byte("prefix"), h)
		if len(b)-6 != tt.size || HeaderSize(h) != tt.size {
			t.Errorf("length %d masked %v: wrote %d bytes, HeaderSize %d, want %d", tt.length, tt.masked, len(b)-6, HeaderSize(h), tt.size)
		}
		got, n, err := ParseHeader(b[6:])
		if err != nil || n != tt.size || got != h {
			t.Errorf("length %d: round trip got %+v %d %v", tt.length, got, n, err)
		}
	}
}

func TestAppendHeaderNegativeLengthPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	AppendHeader(nil, Header{Length: -1})
}

func TestAppendFrame(t *testing.T) {
	t.Parallel()
	got := AppendFrame(nil, OpText, true, 0, []byte("Hello"))
	// RFC 6455 §5.7: a single-frame unmasked text message.
	if want := []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}; !bytes.Equal(got, want) {
		t.Errorf("AppendFrame = %x, want %x", got, want)
	}
	payload := []byte("Hello")
	got = AppendMaskedFrame(nil, OpText, true, 0, [4]byte{0x37, 0xfa, 0x21, 0x3d}, payload)
	// RFC 6455 §5.7: a single-frame masked text message.
	if want := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}; !bytes.Equal(got, want) {
		t.Errorf("AppendMaskedFrame = %x, want %x", got, want)
	}
	if string(payload) != "Hello" {
		t.Errorf("payload modified: %q", payload)
	}
	got = AppendFrame(nil, OpBinary, false, Rsv1, make([]byte, 256))
	if want := []byte{0x42, 0x7E, 0x01, 0x00}; !bytes.Equal(got[:4], want) || len(got) != 260 {
		t.Errorf("AppendFrame 256 = %x…, len %d", got[:4], len(got))
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte{0x81, 0x05})
	f.Add([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d})
	f.Add([]byte{0x82, 126, 0x01, 0x00})
	f.Add([]byte{0x82, 126, 0x00, 0x10})
	f.Add([]byte{0x02, 127, 0, 0, 0, 0, 0, 1, 0, 0})
	f.Add([]byte{0x02, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseHeader(b)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Code != StatusProtocolError || n != 0 {
				t.Fatalf("bad error %v (n %d)", err, n)
			}
			return
		}
		if n == 0 {
			if len(b) >= MaxHeaderSize {
				t.Fatalf("needs more than %d bytes", len(b))
			}
			return
		}
		if n > len(b) || n != HeaderSize(h) || h.Length < 0 {
			t.Fatalf("n %d, HeaderSize %d, len %d, Length %d", n, HeaderSize(h), len(b), h.Length)
		}
		if got := AppendHeader(nil, h); !bytes.Equal(got, b[:n]) {
			t.Fatalf("round trip: got %x, want %x", got, b[:n])
		}
		// Any prefix is too short, never an error or a different header.
		for i := range n {
			if _, m, err := ParseHeader(b[:i]); m != 0 || err != nil {
				t.Fatalf("prefix %d: n %d err %v", i, m, err)
			}
		}
	})
}
