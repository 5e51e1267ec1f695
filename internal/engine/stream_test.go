package engine_test

import (
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/internal/frame"
	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// takeoverOffer asks for permessage-deflate letting the server keep its
// context (no server_no_context_takeover).
const takeoverOffer = "permessage-deflate; client_no_context_takeover"

// newTakeoverCodec returns a Codec in ModeContextTakeover with max slots.
func newTakeoverCodec(t *testing.T, max int) *wsflate.Codec {
	t.Helper()
	codec, err := wsflate.New(wsflate.Options{Mode: wsflate.ModeContextTakeover, MaxContexts: max})
	if err != nil {
		t.Fatal(err)
	}
	return codec
}

// takeoverPeer is a client that lets the server keep its compression
// context and inflates with compress/flate, an implementation independent
// of the server's, keeping the last 32 KiB of output as the dictionary of
// the next message (RFC 7692 §7.2.2 with context takeover).
type takeoverPeer struct {
	t      *testing.T
	nc     net.Conn
	exts   string
	r      *ws.Reader
	in     []byte // bytes read and not yet decoded
	buf    []byte
	fr     io.ReadCloser
	window []byte // the last 32 KiB of inflated output
}

func dialTakeover(t *testing.T, url string) *takeoverPeer {
	t.Helper()
	return dialOffer(t, url, takeoverOffer)
}

// dialOffer is dialTakeover with another Sec-WebSocket-Extensions offer
// ("" for none).
func dialOffer(t *testing.T, url, offer string) *takeoverPeer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, br, hs, err := ws.Dial(ctx, url, ws.DialOptions{Extensions: offer})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { nc.Close() })
	p := &takeoverPeer{t: t, nc: nc, exts: hs.Extensions, buf: make([]byte, 32<<10),
		r: ws.NewReader(ws.ReaderOptions{Role: ws.ClientSide, AllowRSV1: true})}
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		p.in = bytes.Clone(b)
	}
	return p
}

// takesOver reports whether the handshake let the server keep its context.
func (p *takeoverPeer) takesOver() bool {
	return strings.HasPrefix(p.exts, wsflate.Name) && !strings.Contains(p.exts, "server_no_context_takeover")
}

// next returns the next data message, inflated, its size on the wire and
// whether it came compressed.
func (p *takeoverPeer) next() (op ws.Opcode, msg []byte, wire int, compressed bool) {
	p.t.Helper()
	p.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		for len(p.in) > 0 {
			n, ev, err := p.r.Next(p.in)
			p.in = p.in[n:]
			if err != nil {
				p.t.Fatalf("read: %v", err)
			}
			switch ev.Kind {
			case ws.EventMessage:
				if !ev.Compressed {
					return ev.Opcode, bytes.Clone(ev.Payload), len(ev.Payload), false
				}
				return ev.Opcode, p.inflate(ev.Payload), len(ev.Payload), true
			case ws.EventClose:
				p.t.Fatalf("server closed: %v %q", ev.CloseCode, ev.CloseReason)
			}
		}
		n, err := p.nc.Read(p.buf)
		if n == 0 && err != nil {
			p.t.Fatalf("read: %v", err)
		}
		p.in = append(p.in[:0], p.buf[:n]...)
	}
}

// inflate decodes one compressed message with the window of the ones
// before it.
func (p *takeoverPeer) inflate(z []byte) []byte {
	p.t.Helper()
	src := bytes.NewReader(append(bytes.Clone(z), 0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff))
	if p.fr == nil {
		p.fr = flate.NewReaderDict(src, p.window)
	} else if err := p.fr.(flate.Resetter).Reset(src, p.window); err != nil {
		p.t.Fatal(err)
	}
	msg, err := io.ReadAll(p.fr)
	if err != nil {
		p.t.Fatalf("inflate with context: %v", err)
	}
	p.window = append(p.window, msg...)
	if over := len(p.window) - 32<<10; over > 0 {
		p.window = append(p.window[:0], p.window[over:]...)
	}
	return msg
}

// close sends a Close frame and waits for the connection to end.
func (p *takeoverPeer) close() {
	p.nc.Write(ws.AppendMaskedFrame(nil, ws.OpClose, true, 0, ws.NewMaskKey(), ws.AppendClosePayload(nil, 1000, "")))
	p.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	io.Copy(io.Discard, p.nc)
}

// takeoverMessage is writer w's message i: similar JSON documents, of
// several sizes around and above the threshold.
func takeoverMessage(w, i int) []byte {
	b := fmt.Appendf(nil, `{"w":%d,"i":%d,"quotes":[`, w, i)
	for k := range 4 + (w+i)%24 {
		b = fmt.Appendf(b, `{"symbol":"ACME","bid":%d.%02d,"ask":%d.%02d},`, 100+k, i%100, 101+k, (i+k)%100)
	}
	return append(b, `{}]}`...)
}

// TestContextTakeoverConcurrentWriters has several goroutines write to
// one connection with context takeover at once, through WriteMessage and
// WriteFrame: the client inflates every message with the
// context of the ones before it, so any frame out of compression order
// fails; each writer's messages arrive in order. The slot is freed at
// close and the compressor dropped.
func TestContextTakeoverConcurrentWriters(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		const writers, perWriter = 8, 150
		codec := newTakeoverCodec(t, 4)
		e := engine.New(engine.Options{Kind: kind, Codec: codec})
		opened := make(chan *engine.Conn, 1)
		closed := make(chan *engine.Conn, 1)
		url := serve(t, e, func() engine.Handler {
			return funcs{open: func(c *engine.Conn) { opened <- c }, close: func(c *engine.Conn, _ error) { closed <- c }}
		})
		p := dialTakeover(t, url)
		if !p.takesOver() {
			t.Fatalf("response %q, want context takeover", p.exts)
		}
		c := <-opened
		if got := codec.Stats().Contexts; got != 1 {
			t.Fatalf("%d context slots held, want 1", got)
		}
		var wg sync.WaitGroup
		defer func() {
			p.nc.Close() // on failure: the writers get errors and stop
			wg.Wait()
		}()
		for w := range writers {
			wg.Go(func() {
				for i := range perWriter {
					msg := takeoverMessage(w, i)
					var err error
					switch i % 2 {
					case 0:
						err = c.WriteMessage(ws.OpText, msg)
					default:
						err = c.WriteFrame(frame.NewDeflatable(codec, ws.OpText, msg))
					}
					if err != nil {
						t.Errorf("writer %d message %d: %v", w, i, err)
						return
					}
				}
			})
		}
		nextOf := make([]int, writers)
		var compressed, plain, wire, raw int
		for range writers * perWriter {
			_, msg, n, z := p.next()
			var w, i int
			if _, err := fmt.Sscanf(string(msg), `{"w":%d,"i":%d`, &w, &i); err != nil || w >= writers {
				t.Fatalf("message %.40q: %v", msg, err)
			}
			if i != nextOf[w] || !bytes.Equal(msg, takeoverMessage(w, i)) {
				t.Fatalf("writer %d: got message %d, want %d with its bytes", w, i, nextOf[w])
			}
			nextOf[w]++
			if z {
				compressed++
				wire += n
				raw += len(msg)
			} else {
				plain++
			}
		}
		wg.Wait()
		if compressed == 0 || plain == 0 {
			t.Fatalf("%d compressed and %d plain messages: want both (sizes straddle the threshold)", compressed, plain)
		}
		t.Logf("%d compressed messages: %d bytes on the wire for %d (%.1f%%); %d plain", compressed, wire, raw, 100*float64(wire)/float64(raw), plain)
		p.close()
		if c := <-closed; engine.HoldsCompressor(c) {
			t.Fatal("the connection still holds its compressor after OnClose")
		}
		if got := codec.Stats().Contexts; got != 0 {
			t.Fatalf("%d context slots held after close, want 0", got)
		}
	})
}

// TestContextTakeoverSlots checks the cap and that every way a
// connection ends frees its slot: a close after compressed messages, a
// close without any, and a Serve refused by a closed engine.
func TestContextTakeoverSlots(t *testing.T) {
	eachKind(t, func(t *testing.T, kind engine.Kind) {
		codec := newTakeoverCodec(t, 2)
		e := engine.New(engine.Options{Kind: kind, Codec: codec})
		url := serve(t, e, echo)
		held := func() int64 { return codec.Stats().Contexts }
		msg := takeoverMessage(0, 20)

		a, b := dialTakeover(t, url), dialTakeover(t, url)
		c := dialTakeover(t, url)
		if !a.takesOver() || !b.takesOver() || c.takesOver() || !strings.Contains(c.exts, "server_no_context_takeover") {
			t.Fatalf("responses %q, %q, %q: want the third stateless", a.exts, b.exts, c.exts)
		}
		if held() != 2 {
			t.Fatalf("%d slots held, want 2", held())
		}
		// a compresses twice (the second message refers to the first); c,
		// stateless, sends the same bytes twice.
		for _, p := range []*takeoverPeer{a, c} {
			var sizes []int
			for range 2 {
				p.nc.Write(ws.AppendMaskedFrame(nil, ws.OpText, true, 0, ws.NewMaskKey(), msg))
				_, got, n, z := p.next()
				if !bytes.Equal(got, msg) || !z {
					t.Fatalf("echo: %d bytes, compressed=%v", len(got), z)
				}
				sizes = append(sizes, n)
			}
			if takes := p.takesOver(); (sizes[1]*4 < sizes[0]) != takes {
				t.Errorf("context takeover %v: echoes of %d bytes took %v bytes", takes, len(msg), sizes)
			}
		}
		a.close() // compressed: Stream.Close frees the slot
		b.close() // never compressed: the reservation is released
		c.close()
		waitFor(t, func() bool { return held() == 0 && e.Len() == 0 })
		if d := dialTakeover(t, url); !d.takesOver() {
			t.Fatalf("after closes: %q, want context takeover", d.exts)
		}
		waitFor(t, func() bool { return held() == 1 && e.Len() == 1 }) // d is served

		// Close drops d; then a Serve refused frees the slot Negotiate
		// reserved for it.
		e.Close()
		if held() != 0 {
			t.Fatalf("%d slots held after Close, want 0", held())
		}
		_, p := codec.Negotiate([]string{wsflate.Name})
		if held() != 1 {
			t.Fatalf("%d slots held after Negotiate, want 1", held())
		}
		srv, cl := net.Pipe()
		defer cl.Close()
		if err := e.Serve(srv, nil, echo(), p); err != engine.ErrEngineClosed {
			t.Fatalf("Serve after Close: %v", err)
		}
		if held() != 0 {
			t.Fatalf("%d slots held after every connection ended, want 0", held())
		}
	})
}
