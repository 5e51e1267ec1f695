package wsgate_test

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// This file checks permessage-deflate (RFC 7692) over raw sockets: the
// client side compresses with the standard library's compress/flate, an
// implementation independent of the server's, and frames by hand.

// deflateDial opens a WebSocket to url offering permessage-deflate and
// fails the test unless the server accepted it.
func deflateDial(t *testing.T, url string) *rfcPeer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rfcIOTimeout)
	defer cancel()
	nc, br, hs, err := ws.Dial(ctx, url, ws.DialOptions{Extensions: wsflate.ClientOffer})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { nc.Close() })
	if _, ok, err := wsflate.AcceptResponse([]string{hs.Extensions}); !ok || err != nil {
		t.Fatalf("Sec-WebSocket-Extensions %q: negotiated=%v err=%v, want permessage-deflate", hs.Extensions, ok, err)
	}
	nc.SetDeadline(time.Now().Add(rfcIOTimeout))
	return &rfcPeer{t: t, nc: nc, br: br}
}

// rawDeflate compresses msg as one permessage-deflate message: DEFLATE
// with a sync flush, the trailing 00 00 ff ff removed (RFC 7692 §7.2.1).
// It compresses whatever the size, even when the result is larger, at
// the fastest level.
func rawDeflate(t testing.TB, msg []byte) []byte {
	t.Helper()
	return rawDeflateLevel(t, msg, flate.BestSpeed)
}

// rawDeflateLevel is rawDeflate at a compress/flate level.
func rawDeflateLevel(t testing.TB, msg []byte, level int) []byte {
	t.Helper()
	var b bytes.Buffer
	fw, err := flate.NewWriter(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(msg)
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// rawInflate undoes rawDeflate (RFC 7692 §7.2.2).
func rawInflate(t testing.TB, z []byte) []byte {
	t.Helper()
	fr := flate.NewReader(bytes.NewReader(append(bytes.Clone(z), 0, 0, 0xff, 0xff)))
	var out bytes.Buffer
	buf := make([]byte, 32<<10)
	for {
		n, err := fr.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return out.Bytes()
			}
			t.Fatalf("inflate the server's message: %v", err)
		}
	}
}

// deflated is a masked client frame with RSV1 set carrying z.
func deflated(op ws.Opcode, fin bool, z []byte) []byte {
	return ws.AppendMaskedFrame(nil, op, fin, ws.Rsv1, ws.NewMaskKey(), z)
}

// readMessage reads one single-frame data message and returns it
// inflated, and whether it came compressed.
func (p *rfcPeer) readMessage() (op ws.Opcode, msg []byte, compressed bool) {
	p.t.Helper()
	f, err := p.readFrame()
	if err != nil {
		p.t.Fatalf("read frame: %v", err)
	}
	if f.masked || !f.fin || f.rsv&^ws.Rsv1 != 0 || !f.op.IsData() {
		p.t.Fatalf("server sent %v: want one unmasked data frame, RSV2/3 clear", f)
	}
	if f.rsv&ws.Rsv1 != 0 {
		return f.op, rawInflate(p.t, f.payload), true
	}
	return f.op, f.payload, false
}

// jsonPayload is n bytes of JSON shaped like a price history.
func jsonPayload(n int) []byte {
	b := []byte(`{"symbol":"ACME","points":[`)
	for i := 0; len(b) < n; i++ {
		b = fmt.Appendf(b, `{"t":%d,"p":%d.%02d},`, 1700000000+i*60, 100+i%37, i%100)
	}
	b = b[:n]
	return b
}

// randomPayload is n bytes that do not compress.
func randomPayload(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// deflateSizes are the message sizes echoed with compression: empty, the
// edges of the 256-byte threshold, a JSON reply, and large messages.
var deflateSizes = []int{0, 1, 255, 256, 257, 4 << 10, 64 << 10, 1 << 20}

// TestDeflateEcho echoes compressible and incompressible messages of
// every size in deflateSizes through /echo, sent compressed (whatever
// their size) and plain, and checks what comes back: the same message,
// compressed exactly when it is at least the threshold and shrinks.
func TestDeflateEcho(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		// 2 MiB: random data compressed is a little larger than 1 MiB on
		// the wire, and the limit applies there too.
		_, base := startServer(t, wsgate.Config{Engine: eng, MaxMessageSize: 2 << 20})
		type input struct {
			name string
			op   ws.Opcode
			make func(int) []byte
			pack bool // the server's reply shrinks when compressed
		}
		inputs := []input{
			{"json", ws.OpText, jsonPayload, true},
			{"letters", ws.OpText, func(n int) []byte { return filled(ws.OpText, n) }, true},
			{"random", ws.OpBinary, randomPayload, false},
		}
		for _, in := range inputs {
			for _, n := range deflateSizes {
				for _, sendCompressed := range []bool{true, false} {
					t.Run(fmt.Sprintf("%s/%d/compressed=%v", in.name, n, sendCompressed), func(t *testing.T) {
						t.Parallel()
						msg := in.make(n)
						wire := masked(in.op, true, msg)
						if sendCompressed {
							wire = deflated(in.op, true, rawDeflate(t, msg))
						}
						p := deflateDial(t, base+"/echo")
						// A megabyte compressed and inflated by both sides
						// under the race detector, beside the other cases.
						p.nc.SetDeadline(time.Now().Add(4 * rfcIOTimeout))
						p.write(wire)
						op, got, compressed := p.readMessage()
						if op != in.op || !bytes.Equal(got, msg) {
							t.Fatalf("echo of %d bytes: got %v with %d bytes, want %v, same bytes", n, op, len(got), in.op)
						}
						if want := in.pack && n >= wsflate.DefaultThreshold; compressed != want {
							t.Errorf("echo of %d %s bytes: compressed=%v, want %v", n, in.name, compressed, want)
						}
						p.write(closeWith(1000, ""))
						p.expectClose(ws.StatusNormalClosure)
						p.expectEOF()
					})
				}
			}
		}
	})
}

// TestDeflateFragmented sends a compressed message in three frames, RSV1
// on the first only (RFC 7692 §6.1), and expects it echoed whole.
func TestDeflateFragmented(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, base := startServer(t, wsgate.Config{Engine: eng})
		msg := jsonPayload(4 << 10)
		z := rawDeflate(t, msg)
		third := len(z) / 3
		p := deflateDial(t, base+"/echo")
		p.write(
			deflated(ws.OpText, false, z[:third]),
			masked(ws.OpContinuation, false, z[third:2*third]),
			masked(ws.OpContinuation, true, z[2*third:]),
		)
		op, got, compressed := p.readMessage()
		if op != ws.OpText || !bytes.Equal(got, msg) || !compressed {
			t.Fatalf("got %v, %d bytes, compressed=%v; want the %d-byte text back compressed", op, len(got), compressed, len(msg))
		}
	})
}

// TestDeflateViolations checks the close codes for compressed input that
// cannot be delivered, and for RSV1 where RFC 7692 forbids it.
func TestDeflateViolations(t *testing.T) {
	t.Parallel()
	zeros := func(n int) []byte { return make([]byte, n) }
	bomb := rawDeflateLevel(t, zeros(64<<20), flate.BestCompression) // about 64 KB that inflate to 64 MiB
	tests := []struct {
		name string
		send func(t *testing.T) [][]byte
		code ws.StatusCode
	}{
		{"bomb just over the limit", func(t *testing.T) [][]byte {
			return [][]byte{deflated(ws.OpBinary, true, rawDeflate(t, zeros(1<<20+1)))}
		}, ws.StatusMessageTooBig},
		{"bomb of 64 MiB", func(t *testing.T) [][]byte {
			// The server must stop inflating at its 1 MiB limit.
			return [][]byte{deflated(ws.OpBinary, true, bomb)}
		}, ws.StatusMessageTooBig},
		{"corrupt data", func(*testing.T) [][]byte {
			return [][]byte{deflated(ws.OpBinary, true, []byte{0xff, 0xff, 0xff, 0xff})}
		}, ws.StatusInvalidPayload},
		{"invalid UTF-8 after inflating", func(t *testing.T) [][]byte {
			return [][]byte{deflated(ws.OpText, true, rawDeflate(t, []byte(strings.Repeat("ab\xffcd", 100))))}
		}, ws.StatusInvalidPayload},
		{"RSV1 on a continuation", func(t *testing.T) [][]byte {
			z := rawDeflate(t, jsonPayload(1000))
			return [][]byte{deflated(ws.OpText, false, z[:10]), deflated(ws.OpContinuation, true, z[10:])}
		}, ws.StatusProtocolError},
		{"RSV1 on a pong", func(*testing.T) [][]byte {
			return [][]byte{ws.AppendMaskedFrame(nil, ws.OpPong, true, ws.Rsv1, ws.NewMaskKey(), nil)}
		}, ws.StatusProtocolError},
	}
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, base := startServer(t, wsgate.Config{Engine: eng})
		for _, path := range []string{"/echo", "/ws"} {
			for _, tt := range tests {
				t.Run(strings.TrimPrefix(path, "/")+"/"+tt.name, func(t *testing.T) {
					t.Parallel()
					p := deflateDial(t, base+path)
					p.write(tt.send(t)...)
					p.expectClose(tt.code)
					p.expectEOF()
				})
			}
		}
	})
}

// TestDeflateNotNegotiated checks that a server with compression
// disabled declines the offer, fails RSV1 with 1002 and never sets RSV1.
func TestDeflateNotNegotiated(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, base := startServer(t, wsgate.Config{Engine: eng, Compression: wsgate.CompressionConfig{Disabled: true}})
		ctx, cancel := context.WithTimeout(context.Background(), rfcIOTimeout)
		defer cancel()
		nc, br, hs, err := ws.Dial(ctx, base+"/echo", ws.DialOptions{Extensions: wsflate.ClientOffer})
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if hs.Extensions != "" {
			t.Fatalf("compression disabled, yet the server answered %q", hs.Extensions)
		}
		nc.SetDeadline(time.Now().Add(rfcIOTimeout))
		p := &rfcPeer{t: t, nc: nc, br: br}
		msg := jsonPayload(4 << 10)
		p.write(masked(ws.OpText, true, msg))
		p.expect(ws.OpText, msg) // next() rejects RSV bits
		p.write(deflated(ws.OpText, true, rawDeflate(t, msg)))
		p.expectClose(ws.StatusProtocolError)
		p.expectEOF()
	})
}

// TestDeflateConfig checks the options New refuses.
func TestDeflateConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []wsgate.CompressionConfig{
		{ContextTakeover: true, MaxContexts: -1},
		{Level: 10},
		{Level: -1},
		{Threshold: -1},
		{Level: 1000},
	} {
		if _, err := wsgate.New(wsgate.Config{Compression: c}); err == nil {
			t.Errorf("New accepted %+v", c)
		}
	}
}
