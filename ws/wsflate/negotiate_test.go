package wsflate

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

const (
	respDefault  = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
	respTakeover = "permessage-deflate; client_no_context_takeover"
)

func TestNegotiate(t *testing.T) {
	t.Parallel()
	full := Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}
	bits := func(n uint8) Params { p := full; p.ServerMaxWindowBits = n; return p }
	takeover := full
	takeover.ServerNoContextTakeover = false
	tests := []struct {
		name   string
		header string
		mode   Mode
		resp   string
		params Params
	}{
		{"bare", "permessage-deflate", 0, respDefault, full},
		{"chrome", "permessage-deflate; client_max_window_bits", 0, respDefault, full},
		{"firefox", "permessage-deflate", 0, respDefault, full},
		{"client bits value", "permessage-deflate; client_max_window_bits=10", 0, respDefault, full},
		{"client bits quoted", `permessage-deflate; client_max_window_bits="9"`, 0, respDefault, full},
		{"both no context", "permessage-deflate; server_no_context_takeover; client_no_context_takeover", 0, respDefault, full},
		{"name case", "PERMESSAGE-DEFLATE; Client_Max_Window_Bits", 0, respDefault, full},
		{"server bits 10", "permessage-deflate; server_max_window_bits=10", 0, respDefault + "; server_max_window_bits=10", bits(10)},
		{"server bits 8", "permessage-deflate; server_max_window_bits=8", 0, respDefault + "; server_max_window_bits=8", bits(8)},
		{"server bits 15 echoed", "permessage-deflate; server_max_window_bits=15", 0, respDefault + "; server_max_window_bits=15", full},
		{"server bits quoted", `permessage-deflate; server_max_window_bits="12"`, 0, respDefault + "; server_max_window_bits=12", bits(12)},
		{"other extension first", "x-webkit-deflate-frame, permessage-deflate", 0, respDefault, full},
		{"first acceptable of several", "permessage-deflate; server_max_window_bits=9, permessage-deflate", 0, respDefault + "; server_max_window_bits=9", bits(9)},

		// Declined offers fall through to the next one.
		{"repeated param", "permessage-deflate; client_no_context_takeover; client_no_context_takeover, permessage-deflate; server_max_window_bits=11", 0, respDefault + "; server_max_window_bits=11", bits(11)},
		{"repeated bits", "permessage-deflate; client_max_window_bits; client_max_window_bits=10, permessage-deflate", 0, respDefault, full},
		{"unknown param", "permessage-deflate; x=1, permessage-deflate", 0, respDefault, full},
		{"server bits bare", "permessage-deflate; server_max_window_bits, permessage-deflate", 0, respDefault, full},
		{"server bits 16", "permessage-deflate; server_max_window_bits=16, permessage-deflate", 0, respDefault, full},
		{"server bits 7", "permessage-deflate; server_max_window_bits=7, permessage-deflate", 0, respDefault, full},
		{"client bits 16", "permessage-deflate; client_max_window_bits=16, permessage-deflate", 0, respDefault, full},
		{"leading zero", "permessage-deflate; client_max_window_bits=010, permessage-deflate", 0, respDefault, full},
		{"sign", "permessage-deflate; server_max_window_bits=+9, permessage-deflate", 0, respDefault, full},
		{"empty value", `permessage-deflate; server_max_window_bits="", permessage-deflate`, 0, respDefault, full},
		{"value on no context", "permessage-deflate; server_no_context_takeover=1, permessage-deflate", 0, respDefault, full},
		{"quoted value on no context", `permessage-deflate; client_no_context_takeover="", permessage-deflate`, 0, respDefault, full},

		// Nothing acceptable.
		{"only invalid", "permessage-deflate; server_max_window_bits=20", 0, "", Params{}},
		{"only others", "x-foo; a=1, x-bar", 0, "", Params{}},
		{"disabled", "permessage-deflate", ModeDisabled, "", Params{}},
		{"bad mode", "permessage-deflate", ModeDisabled + 1, "", Params{}},

		// Context takeover mode.
		{"takeover", "permessage-deflate; client_max_window_bits", ModeContextTakeover, respTakeover, takeover},
		{"takeover refused by client", "permessage-deflate; server_no_context_takeover", ModeContextTakeover, respDefault, full},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			offers, err := ParseExtensions([]string{tt.header})
			if err != nil {
				t.Fatal(err)
			}
			resp, p := negotiate(offers, tt.mode)
			if resp != tt.resp || p != tt.params {
				t.Fatalf("got %q %+v; want %q %+v", resp, p, tt.resp, tt.params)
			}
			if tt.mode <= ModeDisabled {
				c, err := New(Options{Mode: tt.mode})
				if err != nil {
					t.Fatal(err)
				}
				if resp, p := c.Negotiate([]string{tt.header}); resp != tt.resp || p != tt.params {
					t.Fatalf("Codec.Negotiate: got %q %+v; want %q %+v", resp, p, tt.resp, tt.params)
				}
				c.Release(p)
			}
			if resp == "" {
				return
			}
			back, ok, err := parseResponse([]string{resp})
			if err != nil || !ok || back != p {
				t.Fatalf("parseResponse(%q) = %+v, %v, %v; want %+v", resp, back, ok, err, p)
			}
		})
	}
}

func TestCodecNegotiateCap(t *testing.T) {
	t.Parallel()
	c, err := New(Options{Mode: ModeContextTakeover, MaxContexts: 2})
	if err != nil {
		t.Fatal(err)
	}
	offers := []string{Name}
	var streams []*Stream
	for i := range 3 {
		resp, p := c.Negotiate(offers)
		s := c.NewStream(p)
		if i < 2 {
			if resp != respTakeover || s == nil {
				t.Fatalf("connection %d: %q, stream %v", i, resp, s)
			}
		} else if resp != respDefault || s != nil || !p.ServerNoContextTakeover {
			t.Fatalf("connection past the cap: %q %+v, stream %v", resp, p, s)
		}
		streams = append(streams, s)
	}
	if got := c.Stats().Contexts; got != 2 {
		t.Fatalf("Contexts = %d, want 2", got)
	}
	streams[0].Close()
	streams[0].Close() // idempotent
	if got := c.Stats().Contexts; got != 1 {
		t.Fatalf("Contexts after Close = %d, want 1", got)
	}
	resp, p := c.Negotiate(offers)
	if resp != respTakeover {
		t.Fatalf("after Close: %q", resp)
	}
	streams = append(streams, c.NewStream(p))
	streams[1].Close()
	streams[3].Close()
	if got := c.Stats().Contexts; got != 0 {
		t.Fatalf("Contexts after closing every Stream = %d, want 0", got)
	}
	// Stateless modes never hand out Streams.
	var plain Codec
	if _, p := plain.Negotiate(offers); plain.NewStream(p) != nil || plain.NewStream(Params{}) != nil {
		t.Fatal("NewStream without ModeContextTakeover")
	}
}

// TestCodecNegotiateHeader checks that Negotiate reads the header lines
// itself and declines a malformed header without reserving a slot.
func TestCodecNegotiateHeader(t *testing.T) {
	t.Parallel()
	c, err := New(Options{Mode: ModeContextTakeover})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lines []string
		want  string
	}{
		{[]string{"permessage-deflate; client_max_window_bits"}, respTakeover},
		{[]string{"x-foo", "permessage-deflate; server_no_context_takeover"}, respDefault},
		{[]string{"permessage-deflate;"}, ""},                                // malformed: declined
		{[]string{`permessage-deflate; a="`}, ""},                            // malformed: declined
		{[]string{"permessage-deflate", "permessage-deflate; a=\"b\"c"}, ""}, // one bad line: declined
		{[]string{"permessage-deflate; x=1"}, ""},                            // unacceptable: declined
		{[]string{"x-foo"}, ""},                                              // none offered
		{nil, ""},
	}
	for _, tt := range tests {
		got, p := c.Negotiate(tt.lines)
		if got != tt.want || (got == "") != (p == Params{}) {
			t.Errorf("%q: %q %+v; want %q", tt.lines, got, p, tt.want)
		}
		c.Release(p)
	}
	if n := c.Stats().Contexts; n != 0 {
		t.Fatalf("%d slots held after releasing every answer", n)
	}
}

func TestParseResponse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		lines  []string
		params Params
		ok     bool
		err    error
		accept error // AcceptResponse's error, when it differs
	}{
		{"none", nil, Params{}, false, nil, nil},
		{"other only", []string{"x-foo"}, Params{}, false, nil, nil},
		{"default", []string{respDefault}, Params{true, true, 15, 15}, true, nil, nil},
		{"bits", []string{respDefault + "; server_max_window_bits=9; client_max_window_bits=10"}, Params{true, true, 9, 10}, true, nil, nil},
		{"takeover", []string{respTakeover}, Params{false, true, 15, 15}, true, nil, ErrBadResponse},
		{"twice", []string{"permessage-deflate", "permessage-deflate"}, Params{}, false, ErrBadResponse, nil},
		{"client bits bare", []string{"permessage-deflate; server_no_context_takeover; client_max_window_bits"}, Params{}, false, ErrBadResponse, nil},
		{"server bits bare", []string{"permessage-deflate; server_no_context_takeover; server_max_window_bits"}, Params{}, false, ErrBadResponse, nil},
		{"bits out of range", []string{"permessage-deflate; server_max_window_bits=16"}, Params{}, false, ErrBadResponse, nil},
		{"unknown", []string{"permessage-deflate; foo"}, Params{}, false, ErrBadResponse, nil},
		{"syntax", []string{"permessage-deflate;"}, Params{}, false, ErrSyntax, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, ok, err := parseResponse(tt.lines)
			if p != tt.params || ok != tt.ok || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("parseResponse = %+v %v %v; want %+v %v %v", p, ok, err, tt.params, tt.ok, tt.err)
			}
			want := tt.accept
			if want == nil {
				want = tt.err
			}
			p, ok, err = AcceptResponse(tt.lines)
			if want != nil {
				if !errors.Is(err, want) || ok || p != (Params{}) {
					t.Fatalf("AcceptResponse = %+v %v %v; want error %v", p, ok, err, want)
				}
				return
			}
			if err != nil || ok != tt.ok || p != tt.params {
				t.Fatalf("AcceptResponse = %+v %v %v", p, ok, err)
			}
		})
	}
}

// TestClientOfferAgainstServer checks that the offer a client of this
// package sends is accepted by Codec.Negotiate and that the answer passes
// the client's check, with and without a server window limit.
func TestClientOfferAgainstServer(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModeNoContextTakeover, ModeContextTakeover} {
		c, err := New(Options{Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		resp, sp := c.Negotiate([]string{ClientOffer})
		if resp != respDefault {
			t.Fatalf("%v: server answered %q", mode, resp)
		}
		cp, ok, err := AcceptResponse([]string{resp})
		if err != nil || !ok || cp != sp {
			t.Fatalf("%v: client read %+v, %v, %v; server settled %+v", mode, cp, ok, err, sp)
		}
		if cp.ClientWindow() != WindowFull || cp.ServerWindow() != WindowFull {
			t.Fatalf("windows %v %v", cp.ClientWindow(), cp.ServerWindow())
		}
	}
	p, _, _ := AcceptResponse([]string{respDefault + "; client_max_window_bits=9"})
	if p.ClientWindow() != WindowSmall {
		t.Fatalf("client limited to 9 bits compresses with %v", p.ClientWindow())
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	good := []Options{{}, {Level: 9}, {Level: LevelHuffmanOnly}, {Threshold: 1}, {Mode: ModeContextTakeover, MaxContexts: 1}, {Mode: ModeDisabled}}
	for _, o := range good {
		if _, err := New(o); err != nil {
			t.Errorf("New(%+v): %v", o, err)
		}
	}
	bad := []Options{{Level: 10}, {Level: -1}, {Level: -3}, {Threshold: -1}, {MaxContexts: -1}, {Mode: ModeDisabled + 1}}
	for _, o := range bad {
		if c, err := New(o); !errors.Is(err, ErrBadOptions) || c != nil {
			t.Errorf("New(%+v) = %v, %v; want ErrBadOptions", o, c, err)
		}
	}
	for _, m := range []Mode{ModeNoContextTakeover, ModeContextTakeover, ModeDisabled, 7} {
		if m.String() == "" {
			t.Errorf("empty String for %d", m)
		}
	}
	if WindowSmall.String() != "Small" || Window(5).String() != "Window(5)" || Mode(7).String() != "Mode(7)" {
		t.Error("String of enums")
	}
}

// TestCodecRelease checks that slots come back when a handshake fails
// after Negotiate reserved one, and that Release ignores answers that
// reserved nothing.
func TestCodecRelease(t *testing.T) {
	t.Parallel()
	c, err := New(Options{Mode: ModeContextTakeover, MaxContexts: 1})
	if err != nil {
		t.Fatal(err)
	}
	offers := []string{Name}
	for i := range 3 {
		resp, p := c.Negotiate(offers)
		if resp != respTakeover || c.Stats().Contexts != 1 {
			t.Fatalf("handshake %d: %q with %d slots held", i, resp, c.Stats().Contexts)
		}
		// Full: the next answer is stateless and reserves nothing.
		resp2, p2 := c.Negotiate(offers)
		if resp2 != respDefault {
			t.Fatalf("past the cap: %q", resp2)
		}
		c.Release(p2)
		c.Release(Params{})
		if got := c.Stats().Contexts; got != 1 {
			t.Fatalf("Release of answers without a slot: %d held, want 1", got)
		}
		c.Release(p) // the handshake failed
		if got := c.Stats().Contexts; got != 0 {
			t.Fatalf("after Release: %d held, want 0", got)
		}
	}
	// A client refusing context takeover reserves nothing.
	_, p := c.Negotiate([]string{Name + "; " + paramServerNoContext})
	if !p.ServerNoContextTakeover || c.Stats().Contexts != 0 {
		t.Fatalf("server_no_context_takeover offer: %+v, %d held", p, c.Stats().Contexts)
	}
}

// TestCodecSlotsConcurrent negotiates from many goroutines at once (run
// with -race): the cap is never passed and every slot comes back.
func TestCodecSlotsConcurrent(t *testing.T) {
	t.Parallel()
	const limit = 4
	c, err := New(Options{Mode: ModeContextTakeover, MaxContexts: limit, Threshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	offers := []string{Name}
	var wg sync.WaitGroup
	var over atomic.Int64
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				_, p := c.Negotiate(offers)
				if n := c.Stats().Contexts; n > limit {
					over.Store(n)
				}
				switch (g + i) % 3 {
				case 0:
					c.Release(p)
				default:
					if s := c.NewStream(p); s != nil {
						s.Deflate(nil, []byte("context takeover"))
						s.Close()
					}
				}
			}
		})
	}
	wg.Wait()
	if n := over.Load(); n != 0 {
		t.Fatalf("%d slots held, cap %d", n, limit)
	}
	if n := c.Stats().Contexts; n != 0 {
		t.Fatalf("%d slots held after every connection ended", n)
	}
}
