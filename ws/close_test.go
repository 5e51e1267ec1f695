package ws

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidOnWire(t *testing.T) {
	t.Parallel()
	valid := func(c int) bool {
		return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999)
	}
	for c := 0; c <= 0xFFFF; c++ {
		if got := StatusCode(c).ValidOnWire(); got != valid(c) {
			t.Errorf("%d: ValidOnWire = %v", c, got)
		}
	}
	for _, c := range []StatusCode{1004, StatusNoStatusRcvd, StatusAbnormalClosure, StatusTLSHandshake, 999, 1016, 2999, 5000} {
		if c.ValidOnWire() {
			t.Errorf("%d valid on wire", c)
		}
	}
}

func TestParseClosePayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      []byte
		code    StatusCode
		reason  string
		errCode StatusCode
	}{
		{name: "empty", in: nil, code: StatusNoStatusRcvd},
		{name: "one byte", in: []byte{0x03}, errCode: StatusProtocolError},
		{name: "1000", in: []byte{0x03, 0xE8}, code: StatusNormalClosure},
		{name: "1000 bye", in: []byte("\x03\xE8bye"), code: StatusNormalClosure, reason: "bye"},
		{name: "4999 utf8", in: []byte("\x13\x87héllo"), code: 4999, reason: "héllo"},
		{name: "1014", in: []byte{0x03, 0xF6}, code: StatusBadGateway},
		{name: "3000", in: []byte{0x0B, 0xB8}, code: 3000},
		{name: "0", in: []byte{0, 0}, errCode: StatusProtocolError},
		{name: "999", in: []byte{0x03, 0xE7}, errCode: StatusProtocolError},
		{name: "1004", in: []byte{0x03, 0xEC}, errCode: StatusProtocolError},
		{name: "1005", in: []byte{0x03, 0xED}, errCode: StatusProtocolError},
		{name: "1006", in: []byte{0x03, 0xEE}, errCode: StatusProtocolError},
		{name: "1015", in: []byte{0x03, 0xF7}, errCode: StatusProtocolError},
		{name: "1016", in: []byte{0x03, 0xF8}, errCode: StatusProtocolError},
		{name: "2999", in: []byte{0x0B, 0xB7}, errCode: StatusProtocolError},
		{name: "5000", in: []byte{0x13, 0x88}, errCode: StatusProtocolError},
		{name: "65535", in: []byte{0xFF, 0xFF}, errCode: StatusProtocolError},
		{name: "bad utf8", in: []byte("\x03\xE8\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"), errCode: StatusInvalidPayload},
		{name: "truncated utf8", in: []byte("\x03\xE8a\xE2\x82"), errCode: StatusInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, reason, err := ParseClosePayload(tt.in)
			if tt.errCode != 0 {
				var pe *ProtocolError
				if !errors.As(err, &pe) || pe.Code != tt.errCode {
					t.Fatalf("err = %v, want code %d", err, tt.errCode)
				}
				return
			}
			if err != nil || code != tt.code || reason != tt.reason {
				t.Fatalf("got %d %q %v, want %d %q", code, reason, err, tt.code, tt.reason)
			}
		})
	}
}

func TestAppendClosePayload(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 100) // 200 bytes
	tests := []struct {
		name   string
		code   StatusCode
		reason string
		want   []byte
	}{
		{name: "no status", code: StatusNoStatusRcvd, reason: "ignored", want: []byte{}},
		{name: "normal", code: StatusNormalClosure, want: []byte{0x03, 0xE8}},
		{name: "reason", code: StatusGoingAway, reason: "bye", want: []byte("\x03\xE9bye")},
		{name: "ascii cut", code: StatusNormalClosure, reason: strings.Repeat("a", 200), want: append([]byte{0x03, 0xE8}, strings.Repeat("a", 123)...)},
		{name: "utf8 cut", code: StatusNormalClosure, reason: long, want: append([]byte{0x03, 0xE8}, long[:122]...)},
		{name: "invalid utf8", code: StatusNormalClosure, reason: "a\xffb", want: []byte("\x03\xE8a\uFFFDb")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := AppendClosePayload([]byte{}, tt.code, tt.reason)
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			if len(got) > MaxControlPayload || !utf8.Valid(got[min(2, len(got)):]) {
				t.Fatalf("bad payload %q", got)
			}
		})
	}
}

func TestErrorStrings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{&ProtocolError{Code: StatusProtocolError, Reason: "reason"}, "ws: protocol error (1002): reason"},
		{&CloseError{Code: StatusNormalClosure, Reason: "bye"}, `ws: peer closed: 1000 "bye"`},
		{&HandshakeError{Status: 400, Reason: "missing key"}, "ws: handshake: missing key"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	if !errors.Is(&HandshakeError{Status: 403}, ErrBadHandshake) {
		t.Error("HandshakeError does not match ErrBadHandshake")
	}
}

func FuzzParseClosePayload(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x03})
	f.Add([]byte("\x03\xE8bye"))
	f.Add([]byte("\x0F\xA0\xff"))
	f.Add([]byte{0x03, 0xED})
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := ParseClosePayload(p)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) || (pe.Code != StatusProtocolError && pe.Code != StatusInvalidPayload) {
				t.Fatalf("bad error %v", err)
			}
			return
		}
		if len(p) == 0 {
			if code != StatusNoStatusRcvd || reason != "" {
				t.Fatalf("empty: %d %q", code, reason)
			}
			return
		}
		if !code.ValidOnWire() || !utf8.ValidString(reason) {
			t.Fatalf("accepted %d %q", code, reason)
		}
		if len(p) <= MaxControlPayload {
			if got := AppendClosePayload(nil, code, reason); !bytes.Equal(got, p) {
				t.Fatalf("round trip %x != %x", got, p)
			}
		}
	})
}
