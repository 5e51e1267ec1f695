package ws

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// testKey masks the frames of the tests; any key works.
var testKey = [4]byte{0x11, 0x22, 0x33, 0x44}

// cf builds a masked frame, as a client sends it.
func cf(op Opcode, fin bool, rsv uint8, payload string) []byte {
	return AppendMaskedFrame(nil, op, fin, rsv, testKey, []byte(payload))
}

// sf builds an unmasked frame, as a server sends it.
func sf(op Opcode, fin bool, rsv uint8, payload string) []byte {
	return AppendFrame(nil, op, fin, rsv, []byte(payload))
}

func cat(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

// ev is an Event with its payload copied, for comparison.
type ev struct {
	Kind       EventKind
	Op         Opcode
	Compressed bool
	Payload    string
	Code       StatusCode
	Reason     string
}

func (e ev) String() string {
	p := e.Payload
	if len(p) > 40 {
		p = fmt.Sprintf("%s…(%d bytes)", p[:40], len(p))
	}
	return fmt.Sprintf("%v/%v c=%v %q %d %q", e.Kind, e.Op, e.Compressed, p, e.Code, e.Reason)
}

func msg(op Opcode, payload string) ev { return ev{Kind: EventMessage, Op: op, Payload: payload} }

// feed runs in through a new Reader in pieces of step bytes (0: all at
// once) and returns the events and the error code (0 without an error).
func feed(tb testing.TB, opts ReaderOptions, in []byte, step int) ([]ev, StatusCode) {
	tb.Helper()
	in = bytes.Clone(in) // Next unmasks in place
	r := NewReader(opts)
	var evs []ev
	if step <= 0 {
		step = len(in)
	}
	for off := 0; off < len(in); off += step {
		b := in[off:min(off+step, len(in))]
		for len(b) > 0 {
			n, e, err := r.Next(b)
			if err != nil {
				var pe *ProtocolError
				if !errors.As(err, &pe) {
					tb.Fatalf("error %v is not a *ProtocolError", err)
				}
				if _, _, again := r.Next([]byte{0}); again != err {
					tb.Fatalf("Reader did not stay failed: %v", again)
				}
				return evs, pe.Code
			}
			if n < 0 || n > len(b) || (e.Kind == EventNone && n != len(b)) {
				tb.Fatalf("Next used %d of %d bytes, event %v", n, len(b), e.Kind)
			}
			b = b[n:]
			if e.Kind != EventNone {
				evs = append(evs, ev{e.Kind, e.Opcode, e.Compressed, string(e.Payload), e.CloseCode, e.CloseReason})
			}
		}
	}
	return evs, 0
}

func TestReaderRules(t *testing.T) {
	t.Parallel()
	server := ReaderOptions{Role: ServerSide}
	client := ReaderOptions{Role: ClientSide}
	deflate := ReaderOptions{Role: ServerSide, AllowRSV1: true}
	limit := ReaderOptions{Role: ServerSide, MaxMessageSize: 10}
	big := strings.Repeat("x", 70000)
	tests := []struct {
		name string
		opts ReaderOptions
		in   []byte
		want []ev
		code StatusCode
	}{
		{name: "text", opts: server, in: cf(OpText, true, 0, "hello"), want: []ev{msg(OpText, "hello")}},
		{name: "binary", opts: server, in: cf(OpBinary, true, 0, "\x00\xff"), want: []ev{msg(OpBinary, "\x00\xff")}},
		{name: "empty text", opts: server, in: cf(OpText, true, 0, ""), want: []ev{msg(OpText, "")}},
		{name: "two messages", opts: server, in: cat(cf(OpText, true, 0, "a"), cf(OpBinary, true, 0, "b")), want: []ev{msg(OpText, "a"), msg(OpBinary, "b")}},
		{name: "16-bit length", opts: server, in: cf(OpBinary, true, 0, big[:300]), want: []ev{msg(OpBinary, big[:300])}},
		{name: "64-bit length", opts: client, in: sf(OpBinary, true, 0, big), want: []ev{msg(OpBinary, big)}},
		{name: "client unmasked", opts: client, in: sf(OpText, true, 0, "hi"), want: []ev{msg(OpText, "hi")}},
		{name: "fragments", opts: server, in: cat(cf(OpText, false, 0, "hel"), cf(OpContinuation, false, 0, ""), cf(OpContinuation, true, 0, "lo")), want: []ev{msg(OpText, "hello")}},
		{name: "control between fragments", opts: server,
			in:   cat(cf(OpBinary, false, 0, "ab"), cf(OpPing, true, 0, "p1"), cf(OpContinuation, false, 0, "cd"), cf(OpPong, true, 0, "p2"), cf(OpContinuation, true, 0, "ef")),
			want: []ev{{Kind: EventPing, Op: OpPing, Payload: "p1"}, {Kind: EventPong, Op: OpPong, Payload: "p2"}, msg(OpBinary, "abcdef")}},
		{name: "ping 125", opts: server, in: cf(OpPing, true, 0, big[:125]), want: []ev{{Kind: EventPing, Op: OpPing, Payload: big[:125]}}},
		{name: "empty pong", opts: server, in: cf(OpPong, true, 0, ""), want: []ev{{Kind: EventPong, Op: OpPong}}},
		{name: "reserved opcode 3", opts: server, in: cf(0x3, true, 0, ""), code: StatusProtocolError},
		{name: "reserved opcode B", opts: server, in: cf(0xB, true, 0, ""), code: StatusProtocolError},
		{name: "reserved opcode F", opts: client, in: sf(0xF, true, 0, ""), code: StatusProtocolError},
		{name: "RSV2", opts: deflate, in: cf(OpText, true, Rsv2, "a"), code: StatusProtocolError},
		{name: "RSV3", opts: deflate, in: cf(OpText, true, Rsv3, "a"), code: StatusProtocolError},
		{name: "RSV1 not allowed", opts: server, in: cf(OpText, true, Rsv1, "a"), code: StatusProtocolError},
		{name: "RSV1 compressed", opts: deflate, in: cf(OpText, true, Rsv1, "\xff\x00"), want: []ev{{Kind: EventMessage, Op: OpText, Compressed: true, Payload: "\xff\x00"}}},
		{name: "RSV1 compressed fragments", opts: deflate, in: cat(cf(OpBinary, false, Rsv1, "a"), cf(OpContinuation, true, 0, "b")), want: []ev{{Kind: EventMessage, Op: OpBinary, Compressed: true, Payload: "ab"}}},
		{name: "RSV1 on ping", opts: deflate, in: cf(OpPing, true, Rsv1, ""), code: StatusProtocolError},
		{name: "RSV1 on close", opts: deflate, in: cf(OpClose, true, Rsv1, ""), code: StatusProtocolError},
		{name: "RSV1 on continuation", opts: deflate, in: cat(cf(OpText, false, Rsv1, "a"), cf(OpContinuation, true, Rsv1, "b")), code: StatusProtocolError},
		{name: "unmasked on server", opts: server, in: sf(OpText, true, 0, "a"), code: StatusProtocolError},
		{name: "masked on client", opts: client, in: cf(OpText, true, 0, "a"), code: StatusProtocolError},
		{name: "ping 126", opts: server, in: cf(OpPing, true, 0, big[:126]), code: StatusProtocolError},
		{name: "close 126", opts: server, in: cf(OpClose, true, 0, "\x03\xe8"+big[:124]), code: StatusProtocolError},
		{name: "fragmented ping", opts: server, in: cf(OpPing, false, 0, "a"), code: StatusProtocolError},
		{name: "fragmented pong", opts: server, in: cf(OpPong, false, 0, ""), code: StatusProtocolError},
		{name: "continuation first", opts: server, in: cf(OpContinuation, true, 0, "a"), code: StatusProtocolError},
		{name: "continuation after end", opts: server, in: cat(cf(OpText, true, 0, "a"), cf(OpContinuation, true, 0, "b")), want: []ev{msg(OpText, "a")}, code: StatusProtocolError},
		{name: "text inside fragments", opts: server, in: cat(cf(OpText, false, 0, "a"), cf(OpText, true, 0, "b")), code: StatusProtocolError},
		{name: "binary inside fragments", opts: server, in: cat(cf(OpText, false, 0, "a"), cf(OpPing, true, 0, ""), cf(OpBinary, true, 0, "b")), want: []ev{{Kind: EventPing, Op: OpPing}}, code: StatusProtocolError},
		{name: "non-minimal length", opts: client, in: []byte{0x82, 126, 0, 5, 1, 2, 3, 4, 5}, code: StatusProtocolError},
		{name: "size at limit", opts: limit, in: cat(cf(OpText, false, 0, "12345"), cf(OpContinuation, true, 0, "67890")), want: []ev{msg(OpText, "1234567890")}},
		{name: "size over limit", opts: limit, in: cf(OpBinary, true, 0, "12345678901"), code: StatusMessageTooBig},
		{name: "fragments over limit", opts: limit, in: cat(cf(OpText, false, 0, "123456"), cf(OpContinuation, true, 0, "78901")), code: StatusMessageTooBig},
		{name: "limit ignores control", opts: limit, in: cat(cf(OpText, false, 0, "1234567890"), cf(OpPing, true, 0, "pingpingping"), cf(OpContinuation, true, 0, "")), want: []ev{{Kind: EventPing, Op: OpPing, Payload: "pingpingping"}, msg(OpText, "1234567890")}},
		{name: "invalid utf8", opts: server, in: cf(OpText, true, 0, "a\xffb"), code: StatusInvalidPayload},
		{name: "invalid utf8 in fragment", opts: server, in: cat(cf(OpText, false, 0, "ok"), cf(OpContinuation, true, 0, "\xed\xa0\x80")), code: StatusInvalidPayload},
		{name: "split code point", opts: server, in: cat(cf(OpText, false, 0, "\xf0\x9d"), cf(OpPing, true, 0, ""), cf(OpContinuation, false, 0, "\x84"), cf(OpContinuation, true, 0, "\x9e")), want: []ev{{Kind: EventPing, Op: OpPing}, msg(OpText, "𝄞")}},
		{name: "incomplete code point", opts: server, in: cat(cf(OpText, false, 0, "a\xe2\x82"), cf(OpContinuation, true, 0, "")), code: StatusInvalidPayload},
		{name: "binary not validated", opts: server, in: cf(OpBinary, true, 0, "\xff"), want: []ev{msg(OpBinary, "\xff")}},
		{name: "close empty", opts: server, in: cf(OpClose, true, 0, ""), want: []ev{{Kind: EventClose, Op: OpClose, Code: StatusNoStatusRcvd}}},
		{name: "close 1000 bye", opts: server, in: cf(OpClose, true, 0, "\x03\xe8bye"), want: []ev{{Kind: EventClose, Op: OpClose, Payload: "\x03\xe8bye", Code: StatusNormalClosure, Reason: "bye"}}},
		{name: "close 3000", opts: client, in: sf(OpClose, true, 0, "\x0b\xb8"), want: []ev{{Kind: EventClose, Op: OpClose, Payload: "\x0b\xb8", Code: 3000}}},
		{name: "close 1 byte", opts: server, in: cf(OpClose, true, 0, "\x03"), code: StatusProtocolError},
		{name: "close 1005", opts: server, in: cf(OpClose, true, 0, "\x03\xed"), code: StatusProtocolError},
		{name: "close 999", opts: server, in: cf(OpClose, true, 0, "\x03\xe7"), code: StatusProtocolError},
		{name: "close bad reason", opts: server, in: cf(OpClose, true, 0, "\x03\xe8\xff"), code: StatusInvalidPayload},
		{name: "close inside fragments", opts: server, in: cat(cf(OpText, false, 0, "a"), cf(OpClose, true, 0, "\x03\xe8")), want: []ev{{Kind: EventClose, Op: OpClose, Payload: "\x03\xe8", Code: StatusNormalClosure}}},
		{name: "nothing after close", opts: server, in: cat(cf(OpClose, true, 0, ""), cf(OpText, true, 0, "a"), []byte{0xff, 0xff}), want: []ev{{Kind: EventClose, Op: OpClose, Code: StatusNoStatusRcvd}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, step := range []int{0, 1, 2, 3, 7} {
				got, code := feed(t, tt.opts, tt.in, step)
				if code != tt.code || !slices.Equal(got, tt.want) {
					t.Fatalf("step %d: got %v code %d; want %v code %d", step, got, code, tt.want, tt.code)
				}
			}
		})
	}
}

// TestReaderFailsFast checks that errors come before the offending
// message has arrived in full.
func TestReaderFailsFast(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts ReaderOptions
		in   []byte // the start of a frame only
		code StatusCode
	}{
		{"size from header", ReaderOptions{MaxMessageSize: 1000}, cf(OpBinary, true, 0, strings.Repeat("x", 2000))[:8], StatusMessageTooBig},
		{"size of a 64-bit header", ReaderOptions{Role: ClientSide, MaxMessageSize: 1 << 20}, []byte{0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0}, StatusMessageTooBig},
		{"invalid utf8 mid-frame", ReaderOptions{}, cf(OpText, true, 0, "ok \xc0 and then much more text")[:10], StatusInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, code := feed(t, tt.opts, tt.in, 0); code != tt.code {
				t.Fatalf("code %d, want %d", code, tt.code)
			}
		})
	}
}

// within reports whether p points into b.
func within(p, b []byte) bool {
	if len(p) == 0 {
		return false
	}
	s := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	q := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	return q >= s && q < s+uintptr(len(b))
}

func TestReaderZeroCopy(t *testing.T) {
	t.Parallel()
	r := NewReader(ReaderOptions{})
	b := cf(OpText, true, 0, "whole message")
	n, e, err := r.Next(b)
	if err != nil || n != len(b) || e.Kind != EventMessage || !within(e.Payload, b) || string(e.Payload) != "whole message" {
		t.Fatalf("whole frame: n %d ev %+v err %v, in b %v", n, e, err, within(e.Payload, b))
	}
	// Split across calls, the payload is assembled in the Reader's buffer.
	b = cf(OpText, true, 0, "split message")
	if n, _, _ := r.Next(b[:9]); n != 9 || r.Buffered() != 3 {
		t.Fatalf("n %d, Buffered %d", n, r.Buffered())
	}
	r.Release() // does nothing while a message is buffered
	n, e, err = r.Next(b[9:])
	if err != nil || e.Kind != EventMessage || within(e.Payload, b) || string(e.Payload) != "split message" {
		t.Fatalf("split frame: n %d ev %+v err %v", n, e, err)
	}
	if r.Buffered() != 0 || r.buf == nil {
		t.Fatalf("Buffered %d, buf %v", r.Buffered(), r.buf)
	}
	r.Release()
	if r.buf != nil {
		t.Fatal("Release kept the buffer")
	}
	// A header split across calls is held in the Reader.
	b = cf(OpPing, true, 0, "p")
	if n, _, _ := r.Next(b[:1]); n != 1 || r.Buffered() != 1 {
		t.Fatalf("n %d, Buffered %d", n, r.Buffered())
	}
	if n, e, err := r.Next(b[1:]); n != len(b)-1 || e.Kind != EventPing || string(e.Payload) != "p" || err != nil {
		t.Fatalf("n %d ev %+v err %v", n, e, err)
	}
}

// TestReaderFootprint checks that Footprint counts the buffer a partial
// message holds, at least what is buffered, and nothing between
// messages even when the buffer is kept.
func TestReaderFootprint(t *testing.T) {
	t.Parallel()
	r := NewReader(ReaderOptions{})
	b := cf(OpBinary, true, 0, strings.Repeat("x", 10_000))
	for i := 0; i < len(b)-1; i += 1000 {
		end := min(i+1000, len(b)-1)
		if n, _, err := r.Next(b[i:end]); err != nil || n != end-i {
			t.Fatalf("n %d, err %v", n, err)
		}
		if f := r.Footprint(); f < r.Buffered() || f != r.hdrLen+cap(r.buf) {
			t.Fatalf("after %d bytes: Footprint %d, Buffered %d, buffer capacity %d", end, f, r.Buffered(), cap(r.buf))
		}
	}
	if _, e, err := r.Next(b[len(b)-1:]); err != nil || e.Kind != EventMessage {
		t.Fatalf("last byte: ev %+v err %v", e, err)
	}
	if r.buf == nil || r.Footprint() != 0 {
		t.Fatalf("between messages: Footprint %d (buffer kept: %v), want 0", r.Footprint(), r.buf != nil)
	}
}

func TestReaderReset(t *testing.T) {
	t.Parallel()
	r := NewReader(ReaderOptions{})
	if _, _, err := r.Next(sf(OpText, true, 0, "a")); err == nil {
		t.Fatal("unmasked frame accepted on the server side")
	}
	r.Reset(ReaderOptions{Role: ClientSide})
	if _, e, err := r.Next(sf(OpText, true, 0, "a")); err != nil || e.Kind != EventMessage {
		t.Fatalf("after Reset: %+v %v", e, err)
	}
	if _, e, _ := r.Next(sf(OpClose, true, 0, "")); e.Kind != EventClose || !r.Done() {
		t.Fatalf("close: %+v, done %v", e, r.Done())
	}
	r.Reset(ReaderOptions{Role: ClientSide})
	if r.Done() {
		t.Fatal("done after Reset")
	}
}

func TestReaderSteadyStateAllocs(t *testing.T) {
	r := NewReader(ReaderOptions{})
	whole := AppendMaskedFrame(nil, OpText, true, 0, [4]byte{}, []byte(strings.Repeat("y", 1000)))
	frags := cat(
		AppendMaskedFrame(nil, OpText, false, 0, [4]byte{}, []byte(strings.Repeat("y", 500))),
		AppendMaskedFrame(nil, OpContinuation, true, 0, [4]byte{}, []byte(strings.Repeat("y", 500))),
	)
	run := func() {
		for _, in := range [][]byte{whole, frags, whole[:7], whole[7:]} {
			for b := in; len(b) > 0; {
				n, _, err := r.Next(b)
				if err != nil {
					t.Fatal(err)
				}
				b = b[n:]
			}
		}
	}
	run() // grow the buffer once
	if a := testing.AllocsPerRun(50, run); a != 0 {
		t.Fatalf("%v allocations per run", a)
	}
}

func FuzzReader(f *testing.F) {
	f.Add(uint8(0), cf(OpText, true, 0, "hello"))
	f.Add(uint8(1), sf(OpText, true, 0, "hello"))
	f.Add(uint8(2), cat(cf(OpText, false, Rsv1, "a"), cf(OpPing, true, 0, "x"), cf(OpContinuation, true, 0, "b")))
	f.Add(uint8(4), cat(cf(OpText, false, 0, "\xf0\x9d"), cf(OpContinuation, true, 0, "\x84\x9e"), cf(OpClose, true, 0, "\x03\xe8ok")))
	f.Add(uint8(5), cat(sf(OpBinary, false, 0, "12345678"), sf(OpContinuation, true, 0, "9")))
	f.Add(uint8(0), cf(OpClose, true, 0, "\x03"))
	f.Add(uint8(0), []byte{0x82, 0xFE, 0x00, 0x7E})
	f.Fuzz(func(t *testing.T, flags uint8, in []byte) {
		opts := ReaderOptions{Role: Role(flags & 1), AllowRSV1: flags&2 != 0}
		if flags&4 != 0 {
			opts.MaxMessageSize = 8
		}
		whole, wholeCode := feed(t, opts, in, 0)
		bytewise, byteCode := feed(t, opts, in, 1)
		if wholeCode != byteCode || !slices.Equal(whole, bytewise) {
			t.Fatalf("whole: %v %d; byte by byte: %v %d", whole, wholeCode, bytewise, byteCode)
		}
		switch wholeCode {
		case 0, StatusProtocolError, StatusInvalidPayload, StatusMessageTooBig:
		default:
			t.Fatalf("unexpected close code %d", wholeCode)
		}
		for _, e := range whole {
			if e.Kind == EventMessage && e.Op == OpText && !e.Compressed && !utf8Valid(e.Payload) {
				t.Fatalf("invalid text delivered: %q", e.Payload)
			}
			if opts.MaxMessageSize > 0 && int64(len(e.Payload)) > opts.MaxMessageSize && e.Kind == EventMessage {
				t.Fatalf("message of %d bytes over the limit", len(e.Payload))
			}
		}
	})
}

func utf8Valid(s string) bool {
	var v UTF8Validator
	return v.Write([]byte(s)) && v.Complete()
}

func BenchmarkReaderNext(b *testing.B) {
	for _, size := range []int{64, 1 << 10, 64 << 10} {
		payload := []byte(strings.Repeat("z", size))
		// The zero key leaves the payload readable after in-place
		// unmasking, so one input can be decoded again and again.
		frame := AppendMaskedFrame(nil, OpText, true, 0, [4]byte{}, payload)
		b.Run(fmt.Sprintf("%d/whole", size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			r := NewReader(ReaderOptions{})
			for b.Loop() {
				if _, e, err := r.Next(frame); err != nil || e.Kind != EventMessage {
					b.Fatal(e.Kind, err)
				}
			}
		})
		b.Run(fmt.Sprintf("%d/split", size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			r := NewReader(ReaderOptions{})
			half := len(frame) / 2
			for b.Loop() {
				r.Next(frame[:half])
				if _, e, err := r.Next(frame[half:]); err != nil || e.Kind != EventMessage {
					b.Fatal(e.Kind, err)
				}
			}
		})
	}
}
