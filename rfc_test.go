package wsgate_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/ws"
)

// This file checks the server against RFC 6455 over real sockets: raw
// frames are written to a TCP connection after a real opening handshake and
// the server's answer is decoded frame by frame.

// rfcLimit is the MaxMessageSize of the server most cases run against.
const rfcLimit = 1024

// rfcIOTimeout bounds all the I/O of one connection (its deadline);
// rfcEOFTimeout is how soon after its Close frame the server must end the
// TCP stream.
const (
	rfcIOTimeout  = 5 * time.Second
	rfcEOFTimeout = 3 * time.Second
)

// rfcPeer is a client connection driven byte by byte.
type rfcPeer struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader // holds any bytes read along with the 101 response
}

// rfcDial opens a WebSocket to url with a real opening handshake and
// closes it when the test ends.
func rfcDial(t *testing.T, url string) *rfcPeer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rfcIOTimeout)
	defer cancel()
	nc, br, _, err := ws.Dial(ctx, url, ws.DialOptions{})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(rfcIOTimeout))
	return &rfcPeer{t: t, nc: nc, br: br}
}

// write sends each of chunks with one Write call.
func (p *rfcPeer) write(chunks ...[]byte) {
	p.t.Helper()
	for _, b := range chunks {
		if _, err := p.nc.Write(b); err != nil {
			p.t.Fatalf("write % x: %v", b[:min(len(b), 16)], err)
		}
	}
}

// rfcFrame is one frame as the server sent it.
type rfcFrame struct {
	fin     bool
	rsv     uint8
	op      ws.Opcode
	masked  bool
	payload []byte
}

func (f rfcFrame) String() string {
	return fmt.Sprintf("%v fin=%v rsv=%#x masked=%v len=%d %q", f.op, f.fin, f.rsv, f.masked, len(f.payload), f.payload[:min(len(f.payload), 40)])
}

// readFrame decodes the next frame the server sent. It fails when the
// header does not use the minimal length encoding. At the end of the
// stream it returns io.EOF before a frame, io.ErrUnexpectedEOF inside one.
func (p *rfcPeer) readFrame() (rfcFrame, error) {
	hdr := make([]byte, 0, ws.MaxHeaderSize)
	var h ws.Header
	for {
		c, err := p.br.ReadByte()
		if err != nil {
			if len(hdr) > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return rfcFrame{}, err
		}
		hdr = append(hdr, c)
		var n int
		if h, n, err = ws.ParseHeader(hdr); err != nil {
			return rfcFrame{}, fmt.Errorf("server frame header % x: %w", hdr, err)
		}
		if n > 0 {
			break
		}
	}
	if again := ws.AppendHeader(nil, h); !bytes.Equal(again, hdr) {
		return rfcFrame{}, fmt.Errorf("server frame header % x is not minimal (% x)", hdr, again)
	}
	if h.Length > 1<<21 {
		return rfcFrame{}, fmt.Errorf("server frame of %d bytes", h.Length)
	}
	f := rfcFrame{fin: h.Fin, rsv: h.Rsv, op: h.Opcode, masked: h.Masked, payload: make([]byte, h.Length)}
	if _, err := io.ReadFull(p.br, f.payload); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return rfcFrame{}, err
	}
	if h.Masked {
		ws.MaskBytes(h.Mask, 0, f.payload)
	}
	return f, nil
}

// next returns the next frame, which must be a single unmasked frame
// without RSV bits, as a server without extensions sends.
func (p *rfcPeer) next() rfcFrame {
	p.t.Helper()
	f, err := p.readFrame()
	if err != nil {
		p.t.Fatalf("read frame: %v", err)
	}
	if f.masked || f.rsv != 0 || !f.fin {
		p.t.Fatalf("server sent %v: want FIN set, no RSV bits, no mask", f)
	}
	return f
}

// expect reads the next frame and checks its opcode and payload.
func (p *rfcPeer) expect(op ws.Opcode, payload []byte) {
	p.t.Helper()
	f := p.next()
	if f.op != op || !bytes.Equal(f.payload, payload) {
		p.t.Fatalf("got %v, want %v with %d bytes %q", f, op, len(payload), payload[:min(len(payload), 40)])
	}
}

// expectClose reads the next frame, which must be a Close, and returns its
// raw body after checking that it is well formed and carries want (for an
// empty body want is ws.StatusNoStatusRcvd).
func (p *rfcPeer) expectClose(want ws.StatusCode) []byte {
	p.t.Helper()
	f := p.next()
	if f.op != ws.OpClose {
		p.t.Fatalf("got %v, want a Close frame with %d", f, want)
	}
	code, _, err := ws.ParseClosePayload(f.payload)
	if err != nil {
		p.t.Fatalf("server Close body % x: %v", f.payload, err)
	}
	if code != want {
		p.t.Fatalf("server closed with %d (%v), body %q; want %d (%v)", code, code, f.payload, want, want)
	}
	return f.payload
}

// expectEOF checks that the server ends the TCP stream, sending nothing
// more, within rfcEOFTimeout.
func (p *rfcPeer) expectEOF() {
	p.t.Helper()
	p.nc.SetReadDeadline(time.Now().Add(rfcEOFTimeout))
	f, err := p.readFrame()
	switch {
	case err == nil:
		p.t.Fatalf("got %v after the server's Close, want the end of the stream", f)
	case !errors.Is(err, io.EOF):
		p.t.Fatalf("after the server's Close: %v, want EOF within %v", err, rfcEOFTimeout)
	}
}

// masked is a client frame: masked with a fresh key.
func masked(op ws.Opcode, fin bool, payload []byte) []byte {
	return ws.AppendMaskedFrame(nil, op, fin, 0, ws.NewMaskKey(), payload)
}

// text is a whole masked text message.
func text(s string) []byte { return masked(ws.OpText, true, []byte(s)) }

// closeWith is a masked Close frame carrying code and reason as they are,
// valid or not.
func closeWith(code uint16, reason string) []byte {
	body := binary.BigEndian.AppendUint16(nil, code)
	return masked(ws.OpClose, true, append(body, reason...))
}

// rawLength is a masked frame whose header spells the payload length with
// ext, the bytes after the 7-bit length field lenField (126 or 127).
func rawLength(b0, lenField byte, ext []byte, payload []byte) []byte {
	key := ws.NewMaskKey()
	b := append([]byte{b0, 0x80 | lenField}, ext...)
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, payload...)
	ws.MaskBytes(key, 0, b[start:])
	return b
}

// filled returns n bytes: ASCII letters for text, every byte value for
// binary.
func filled(op ws.Opcode, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		if op == ws.OpText {
			b[i] = 'a' + byte(i%26)
		} else {
			b[i] = byte(i * 7)
		}
	}
	return b
}

// rfcViolation is input that breaks RFC 6455 and the close code the server
// must answer it with.
type rfcViolation struct {
	name string
	send [][]byte // each written with one Write
	code ws.StatusCode
	onWS bool // also run against /ws
}

func rfcViolations() []rfcViolation {
	vs := []rfcViolation{
		// Framing (RFC 6455 §5.1, §5.2).
		{name: "unmasked client frame", send: [][]byte{ws.AppendFrame(nil, ws.OpText, true, 0, []byte("hi"))}, code: ws.StatusProtocolError, onWS: true},
		{name: "RSV1 without extension", send: [][]byte{ws.AppendMaskedFrame(nil, ws.OpText, true, ws.Rsv1, ws.NewMaskKey(), []byte("hi"))}, code: ws.StatusProtocolError, onWS: true},
		{name: "RSV2", send: [][]byte{ws.AppendMaskedFrame(nil, ws.OpText, true, ws.Rsv2, ws.NewMaskKey(), []byte("hi"))}, code: ws.StatusProtocolError},
		{name: "RSV3", send: [][]byte{ws.AppendMaskedFrame(nil, ws.OpBinary, true, ws.Rsv3, ws.NewMaskKey(), []byte("hi"))}, code: ws.StatusProtocolError},
		{name: "RSV1 on a ping", send: [][]byte{ws.AppendMaskedFrame(nil, ws.OpPing, true, ws.Rsv1, ws.NewMaskKey(), nil)}, code: ws.StatusProtocolError},
		{name: "16-bit length for 100 bytes", send: [][]byte{rawLength(0x82, 126, []byte{0, 100}, filled(ws.OpBinary, 100))}, code: ws.StatusProtocolError, onWS: true},
		{name: "64-bit length for 200 bytes", send: [][]byte{rawLength(0x82, 127, []byte{0, 0, 0, 0, 0, 0, 0, 200}, filled(ws.OpBinary, 200))}, code: ws.StatusProtocolError},
		{name: "64-bit length with MSB set", send: [][]byte{rawLength(0x82, 127, []byte{0x80, 0, 0, 0, 0, 0, 0, 0x10}, []byte("x"))}, code: ws.StatusProtocolError},

		// Control frames (§5.5).
		{name: "ping with 126-byte payload", send: [][]byte{masked(ws.OpPing, true, filled(ws.OpBinary, 126))}, code: ws.StatusProtocolError, onWS: true},
		{name: "fragmented ping", send: [][]byte{masked(ws.OpPing, false, []byte("a")), masked(ws.OpContinuation, true, []byte("b"))}, code: ws.StatusProtocolError},

		// Fragmentation (§5.4).
		{name: "continuation without a message", send: [][]byte{masked(ws.OpContinuation, true, []byte("orphan"))}, code: ws.StatusProtocolError, onWS: true},
		{name: "text inside a fragmented text", send: [][]byte{masked(ws.OpText, false, []byte("a")), masked(ws.OpText, true, []byte("b"))}, code: ws.StatusProtocolError},
		{name: "binary inside a fragmented text", send: [][]byte{masked(ws.OpText, false, []byte("a")), masked(ws.OpBinary, true, []byte("b"))}, code: ws.StatusProtocolError},

		// UTF-8 in text messages (§5.6, §8.1).
		{name: "invalid UTF-8 in one frame", send: [][]byte{text("ab\xffcd")}, code: ws.StatusInvalidPayload, onWS: true},
		{name: "surrogate in one frame", send: [][]byte{text("\xed\xa0\x80")}, code: ws.StatusInvalidPayload},
		{name: "F4 90 split across fragments", send: [][]byte{masked(ws.OpText, false, []byte("ab\xf4")), masked(ws.OpContinuation, true, []byte("\x90\x80\x80"))}, code: ws.StatusInvalidPayload},
		{name: "fail fast: invalid first fragment, no final", send: [][]byte{masked(ws.OpText, false, []byte("hello\xffworld"))}, code: ws.StatusInvalidPayload, onWS: true},
		{name: "fail fast: first fragment ends in F4 90", send: [][]byte{masked(ws.OpText, false, []byte("a\xf4\x90"))}, code: ws.StatusInvalidPayload},
		{name: "fail fast: F4 then 90 in a second unfinished fragment", send: [][]byte{masked(ws.OpText, false, []byte("\xf4")), masked(ws.OpContinuation, false, []byte("\x90"))}, code: ws.StatusInvalidPayload},
		{name: "text ends inside a code point", send: [][]byte{text("ab\xe2\x82")}, code: ws.StatusInvalidPayload},
		{name: "fragmented text ends inside a code point", send: [][]byte{masked(ws.OpText, false, []byte("ab\xe2")), masked(ws.OpContinuation, true, []byte("\x82"))}, code: ws.StatusInvalidPayload},

		// Message size limit (Config.MaxMessageSize).
		{name: "2000-byte frame", send: [][]byte{masked(ws.OpBinary, true, filled(ws.OpBinary, 2000))}, code: ws.StatusMessageTooBig, onWS: true},
		{name: "one byte over the limit", send: [][]byte{masked(ws.OpText, true, filled(ws.OpText, rfcLimit+1))}, code: ws.StatusMessageTooBig},
		{name: "3 unfinished fragments of 500 bytes", send: [][]byte{
			masked(ws.OpBinary, false, filled(ws.OpBinary, 500)),
			masked(ws.OpContinuation, false, filled(ws.OpBinary, 500)),
			masked(ws.OpContinuation, false, filled(ws.OpBinary, 500)),
		}, code: ws.StatusMessageTooBig},

		// Close frames (§5.5.1, §7.4).
		{name: "close with 1-byte body", send: [][]byte{masked(ws.OpClose, true, []byte{0x03})}, code: ws.StatusProtocolError},
		{name: "close reason not UTF-8", send: [][]byte{closeWith(1000, "bye\xff")}, code: ws.StatusInvalidPayload, onWS: true},
	}
	for _, op := range []ws.Opcode{0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		vs = append(vs, rfcViolation{
			name: fmt.Sprintf("reserved opcode %#x", uint8(op)),
			send: [][]byte{masked(op, true, []byte("x"))},
			code: ws.StatusProtocolError,
			onWS: op == 0x3 || op == 0xB,
		})
	}
	for _, c := range []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000} {
		vs = append(vs, rfcViolation{
			name: fmt.Sprintf("close code %d", c),
			send: [][]byte{closeWith(c, "")},
			code: ws.StatusProtocolError,
			onWS: c == 1004,
		})
	}
	return vs
}

// TestRFCViolations sends each violation after a real handshake and checks
// that the server answers with a Close frame carrying the right code and
// nothing before it, then ends the TCP stream. A subset runs on /ws too:
// the envelope layer must not change what the protocol layer answers.
func TestRFCViolations(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, base := startServer(t, wsgate.Config{Engine: eng, MaxMessageSize: rfcLimit})
		for _, path := range []string{"/echo", "/ws"} {
			for _, v := range rfcViolations() {
				if path == "/ws" && !v.onWS {
					continue
				}
				t.Run(strings.TrimPrefix(path, "/")+"/"+v.name, func(t *testing.T) {
					t.Parallel()
					p := rfcDial(t, base+path)
					p.write(v.send...)
					p.expectClose(v.code)
					p.expectEOF()
				})
			}
		}
	})
}

// TestRFCCloseHandshake checks the answer to a valid Close (RFC 6455
// §5.5.1): the same code, then the end of the TCP stream.
func TestRFCCloseHandshake(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, base := startServer(t, wsgate.Config{Engine: eng, MaxMessageSize: rfcLimit})
		for _, c := range []uint16{1000, 1001, 1003, 1007, 1011, 3000, 4999} {
			t.Run(fmt.Sprint(c), func(t *testing.T) {
				t.Parallel()
				p := rfcDial(t, base+"/echo")
				p.write(closeWith(c, "bye"))
				p.expectClose(ws.StatusCode(c))
				p.expectEOF()
			})
		}
		t.Run("empty body", func(t *testing.T) {
			t.Parallel()
			// An empty Close says "no status"; the echo of no status is an
			// empty body, not an invented 1000.
			p := rfcDial(t, base+"/echo")
			p.write(masked(ws.OpClose, true, nil))
			if body := p.expectClose(ws.StatusNoStatusRcvd); len(body) != 0 {
				t.Fatalf("reply to an empty Close has body % x, want none", body)
			}
			p.expectEOF()
		})
		t.Run("data after close is ignored", func(t *testing.T) {
			t.Parallel()
			// One write, so the server reads the trailing frames together
			// with the Close: none of them may be echoed.
			p := rfcDial(t, base+"/echo")
			p.write(slices.Concat(closeWith(1000, ""), text("ignored"), masked(ws.OpPing, true, []byte("ignored"))))
			p.expectClose(ws.StatusNormalClosure)
			p.expectEOF()
		})
		t.Run("close in the middle of a fragmented message", func(t *testing.T) {
			t.Parallel()
			p := rfcDial(t, base+"/echo")
			p.write(masked(ws.OpText, false, []byte("unfinished")), closeWith(1000, ""))
			p.expectClose(ws.StatusNormalClosure)
			p.expectEOF()
		})
	})
}

// TestRFCControlFrames checks pings, pongs and control frames inside a
// fragmented message (RFC 6455 §5.4, §5.5.2, §5.5.3).
func TestRFCControlFrames(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, base := startServer(t, wsgate.Config{Engine: eng, MaxMessageSize: rfcLimit})
		ping125 := filled(ws.OpBinary, ws.MaxControlPayload)
		tests := []struct {
			name string
			send [][]byte
			want []rfcFrame // in order; then a Close 1000 handshake
		}{
			{
				name: "ping with 125 bytes",
				send: [][]byte{masked(ws.OpPing, true, ping125)},
				want: []rfcFrame{{op: ws.OpPong, payload: ping125}},
			},
			{
				name: "empty ping",
				send: [][]byte{masked(ws.OpPing, true, nil)},
				want: []rfcFrame{{op: ws.OpPong, payload: []byte{}}},
			},
			{
				name: "unsolicited pong is ignored",
				send: [][]byte{masked(ws.OpPong, true, []byte("unsolicited")), text("still here")},
				want: []rfcFrame{{op: ws.OpText, payload: []byte("still here")}},
			},
			{
				name: "pings inside a fragmented text",
				send: [][]byte{
					masked(ws.OpText, false, []byte("Hello")),
					masked(ws.OpPing, true, []byte("p1")),
					masked(ws.OpContinuation, false, []byte(", ")),
					masked(ws.OpPing, true, []byte("p2")),
					masked(ws.OpContinuation, true, []byte("wörld")),
				},
				want: []rfcFrame{
					{op: ws.OpPong, payload: []byte("p1")},
					{op: ws.OpPong, payload: []byte("p2")},
					{op: ws.OpText, payload: []byte("Hello, wörld")},
				},
			},
			{
				name: "pong inside a fragmented binary, all in one write",
				send: [][]byte{slices.Concat(
					masked(ws.OpBinary, false, []byte{0, 1}),
					masked(ws.OpPong, true, []byte("p")),
					masked(ws.OpContinuation, true, []byte{2, 3}),
				)},
				want: []rfcFrame{{op: ws.OpBinary, payload: []byte{0, 1, 2, 3}}},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				p := rfcDial(t, base+"/echo")
				p.write(tt.send...)
				for _, f := range tt.want {
					p.expect(f.op, f.payload)
				}
				p.write(closeWith(1000, ""))
				p.expectClose(ws.StatusNormalClosure)
				p.expectEOF()
			})
		}
	})
}

// TestRFCEcho checks that /echo returns messages of every length encoding
// with the same opcode and bytes, in single unmasked frames with minimal
// lengths (RFC 6455 §5.2). Messages over rfcLimit go to a second server.
func TestRFCEcho(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, small := startServer(t, wsgate.Config{Engine: eng, MaxMessageSize: rfcLimit})
		_, large := startServer(t, wsgate.Config{Engine: eng, MaxMessageSize: 1 << 20})
		tests := []struct {
			op    ws.Opcode
			size  int
			frags int // fragments the client sends; 0 or 1 means one frame
		}{
			{op: ws.OpText, size: 0},
			{op: ws.OpBinary, size: 0},
			{op: ws.OpText, size: 0, frags: 3},
			{op: ws.OpText, size: 125},
			{op: ws.OpBinary, size: 125},
			{op: ws.OpText, size: rfcLimit},
			{op: ws.OpBinary, size: rfcLimit, frags: 4},
			{op: ws.OpText, size: 126},
			{op: ws.OpBinary, size: 126},
			{op: ws.OpText, size: 65535},
			{op: ws.OpBinary, size: 65535},
			{op: ws.OpText, size: 65536},
			{op: ws.OpBinary, size: 65536},
			{op: ws.OpBinary, size: 100000, frags: 3},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%v/%d/frags=%d", tt.op, tt.size, tt.frags), func(t *testing.T) {
				t.Parallel()
				base := small
				if tt.size > rfcLimit {
					base = large
				}
				msg := filled(tt.op, tt.size)
				var wire []byte
				if tt.frags <= 1 {
					wire = masked(tt.op, true, msg)
				} else {
					op, step := tt.op, (tt.size+tt.frags-1)/tt.frags
					for i := range tt.frags {
						part := msg[min(i*step, len(msg)):min((i+1)*step, len(msg))]
						wire = append(wire, masked(op, i == tt.frags-1, part)...)
						op = ws.OpContinuation
					}
				}
				p := rfcDial(t, base+"/echo")
				p.write(wire)
				p.expect(tt.op, msg)
				p.write(closeWith(1000, ""))
				p.expectClose(ws.StatusNormalClosure)
				p.expectEOF()
			})
		}
	})
}

// TestRFCMalformedJSONKeepsConnection checks that a text frame that is
// valid RFC 6455 but not a valid envelope gets an error reply on /ws, not
// a closed connection.
func TestRFCMalformedJSONKeepsConnection(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, base := startServer(t, wsgate.Config{Engine: eng, MaxMessageSize: rfcLimit})
		tests := []struct {
			name string
			msg  []byte
			want string // error code of the reply
		}{
			{name: "truncated JSON", msg: text(`{"id":1,"call":`), want: "bad_request"},
			{name: "not JSON", msg: text(`hello`), want: "bad_request"},
			{name: "binary frame", msg: masked(ws.OpBinary, true, []byte(`{"id":1}`)), want: "bad_request"},
			{name: "unknown method", msg: text(`{"id":1,"call":"no.such.method"}`), want: "not_found"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				p := rfcDial(t, base+"/ws")
				for range 2 { // the connection survives the first
					p.write(tt.msg)
					f := p.next()
					var r reply
					if f.op != ws.OpText || !utf8.Valid(f.payload) || json.Unmarshal(f.payload, &r) != nil {
						t.Fatalf("got %v, want a JSON error reply", f)
					}
					if r.Error == nil || r.Error.Code != tt.want {
						t.Fatalf("reply %s, want error code %q", f.payload, tt.want)
					}
				}
				p.write(closeWith(1000, ""))
				p.expectClose(ws.StatusNormalClosure)
				p.expectEOF()
			})
		}
	})
}

// TestRFCHandshake checks the server's side of the opening handshake (RFC
// 6455 §4.2) with raw HTTP requests.
func TestRFCHandshake(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, base := startServer(t, wsgate.Config{Engine: eng})
		addr := strings.TrimPrefix(base, "ws://")
		// The example of RFC 6455 §1.3: the SHA-1 of key and the GUID is
		// b37a4f2c c0624f16 90f64606 cf385945 b2bec4ea, in base64 accept.
		const key, accept = "dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
		fifteen := base64.StdEncoding.EncodeToString([]byte("fifteen bytes!!"))
		tests := []struct {
			name   string
			method string            // "" means GET
			proto  string            // "" means HTTP/1.1
			set    map[string]string // header changes; "" deletes
			want   int               // what the server answers
			oneOf  []int             // what RFC 6455 and RFC 9110 allow
			header map[string]string // headers the answer must carry
		}{
			{name: "valid", want: 101, oneOf: []int{101}, header: map[string]string{"Sec-WebSocket-Accept": accept}},
			{name: "Upgrade: WebSocket", set: map[string]string{"Upgrade": "WebSocket"}, want: 101, oneOf: []int{101}, header: map[string]string{"Sec-WebSocket-Accept": accept}},
			{name: "Connection: keep-alive, Upgrade", set: map[string]string{"Connection": "keep-alive, Upgrade"}, want: 101, oneOf: []int{101}, header: map[string]string{"Sec-WebSocket-Accept": accept}},
			{name: "Connection: upgrade lowercase", set: map[string]string{"Connection": "upgrade"}, want: 101, oneOf: []int{101}},
			// A plain HTTP request to a WebSocket endpoint: 426 says how to
			// upgrade; 400 would be allowed too.
			{name: "missing Upgrade", set: map[string]string{"Upgrade": ""}, want: 426, oneOf: []int{400, 426}, header: map[string]string{"Upgrade": "websocket"}},
			{name: "Upgrade: h2c", set: map[string]string{"Upgrade": "h2c"}, want: 400, oneOf: []int{400, 426}},
			{name: "missing Connection", set: map[string]string{"Connection": ""}, want: 400, oneOf: []int{400}},
			{name: "Connection: keep-alive", set: map[string]string{"Connection": "keep-alive"}, want: 400, oneOf: []int{400}},
			{name: "Sec-WebSocket-Version: 8", set: map[string]string{"Sec-WebSocket-Version": "8"}, want: 426, oneOf: []int{426}, header: map[string]string{"Sec-WebSocket-Version": "13"}},
			{name: "missing Sec-WebSocket-Version", set: map[string]string{"Sec-WebSocket-Version": ""}, want: 426, oneOf: []int{400, 426}, header: map[string]string{"Sec-WebSocket-Version": "13"}},
			{name: "missing key", set: map[string]string{"Sec-WebSocket-Key": ""}, want: 400, oneOf: []int{400}},
			{name: "15-byte key", set: map[string]string{"Sec-WebSocket-Key": fifteen}, want: 400, oneOf: []int{400}},
			{name: "key not base64", set: map[string]string{"Sec-WebSocket-Key": "!!!!!!!!!!!!!!!!!!!!!!=="}, want: 400, oneOf: []int{400}},
			{name: "POST", method: "POST", want: 405, oneOf: []int{400, 405}, header: map[string]string{"Allow": "GET"}},
			{name: "HTTP/1.0", proto: "HTTP/1.0", want: 505, oneOf: []int{400, 426, 505}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				if !slices.Contains(tt.oneOf, tt.want) {
					t.Fatalf("test table: %d is not among %v", tt.want, tt.oneOf)
				}
				h := http.Header{
					"Upgrade":               {"websocket"},
					"Connection":            {"Upgrade"},
					"Sec-WebSocket-Key":     {key},
					"Sec-WebSocket-Version": {"13"},
				}
				for k, v := range tt.set {
					if v == "" {
						delete(h, k)
					} else {
						h[k] = []string{v}
					}
				}
				method, proto := cmp.Or(tt.method, "GET"), cmp.Or(tt.proto, "HTTP/1.1")
				if method != "GET" {
					h.Set("Content-Length", "0")
				}
				var req bytes.Buffer
				fmt.Fprintf(&req, "%s /echo %s\r\nHost: %s\r\n", method, proto, addr)
				for _, k := range slices.Sorted(maps.Keys(h)) {
					fmt.Fprintf(&req, "%s: %s\r\n", k, h[k][0])
				}
				req.WriteString("\r\n")

				nc, err := net.DialTimeout("tcp", addr, rfcIOTimeout)
				if err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
				nc.SetDeadline(time.Now().Add(rfcIOTimeout))
				if _, err := nc.Write(req.Bytes()); err != nil {
					t.Fatal(err)
				}
				resp, err := http.ReadResponse(bufio.NewReader(nc), &http.Request{Method: method})
				if err != nil {
					t.Fatalf("reading the answer to\n%s: %v", req.Bytes(), err)
				}
				resp.Body.Close()
				if resp.StatusCode != tt.want {
					t.Fatalf("status %d, want %d, for\n%s", resp.StatusCode, tt.want, req.Bytes())
				}
				for k, v := range tt.header {
					if got := resp.Header.Values(k); len(got) != 1 || got[0] != v {
						t.Errorf("%s: %q, want %q", k, got, v)
					}
				}
				if resp.StatusCode == http.StatusSwitchingProtocols {
					if !ws.HasToken(resp.Header, "Upgrade", "websocket") || !ws.HasToken(resp.Header, "Connection", "upgrade") {
						t.Errorf("101 without Upgrade: websocket and Connection: Upgrade: %v", resp.Header)
					}
					if got := resp.Header.Get("Sec-WebSocket-Accept"); got != accept {
						t.Errorf("Sec-WebSocket-Accept %q, want %q", got, accept)
					}
				}
			})
		}
	})
}
