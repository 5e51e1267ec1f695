package wsflate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Name is the extension token of RFC 7692, compared without regard to
// ASCII case.
const Name = "permessage-deflate"

// The extension parameters of RFC 7692 §7.1.
const (
	paramServerNoContext = "server_no_context_takeover"
	paramClientNoContext = "client_no_context_takeover"
	paramServerMaxBits   = "server_max_window_bits"
	paramClientMaxBits   = "client_max_window_bits"
)

// Window sizes in bits allowed by RFC 7692 §7.1.2.
const (
	minWindowBits = 8
	maxWindowBits = 15
)

// ClientOffer is the Sec-WebSocket-Extensions value a client using this
// package sends. It asks the server not to keep a context (so the client
// inflates every message on its own, as Inflate does), promises the same,
// and lets the server limit the client's window (the client then
// compresses with WindowSmall). Check the answer with AcceptResponse.
const ClientOffer = Name + "; " + paramServerNoContext + "; " + paramClientNoContext + "; " + paramClientMaxBits

// Params are the settled permessage-deflate parameters of one connection,
// from the server's response. The zero value means "not negotiated".
// Params are small and meant to be stored by value per connection.
type Params struct {
	// ServerNoContextTakeover: the server compresses every message on
	// its own (true for every connection in ModeNoContextTakeover).
	ServerNoContextTakeover bool
	// ClientNoContextTakeover: the client compresses every message on
	// its own (always true for a response made by Codec.Negotiate).
	ClientNoContextTakeover bool
	// ServerMaxWindowBits is the largest LZ77 window, as a power of two,
	// the server may use: 8 to 15.
	ServerMaxWindowBits uint8
	// ClientMaxWindowBits is the same for the client's messages: 8 to 15.
	ClientMaxWindowBits uint8
}

// ServerWindow is the window the server compresses with: WindowSmall when
// the client limited it below 15 bits, else WindowFull.
func (p Params) ServerWindow() Window { return window(p.ServerMaxWindowBits) }

// ClientWindow is the window a client compresses with.
func (p Params) ClientWindow() Window { return window(p.ClientMaxWindowBits) }

func window(bits uint8) Window {
	if bits != 0 && bits < maxWindowBits {
		return WindowSmall
	}
	return WindowFull
}

// offer is a permessage-deflate element with its parameters checked.
type offer struct {
	serverNoContext, clientNoContext bool
	serverBits                       uint8 // 0: absent
	clientBits                       uint8 // 0: absent; maxWindowBits when present without a value
	clientBitsSet                    bool
}

// parseDeflate checks e's parameters as RFC 7692 §7.1 asks: each at most
// once, known names only, the *_no_context_takeover ones without a value,
// window bits a decimal 8 to 15 without leading zeros (quoted or not).
// server_max_window_bits needs a value; client_max_window_bits needs one
// when response is true.
func parseDeflate(e Extension, response bool) (offer, error) {
	var o offer
	var seen [4]bool
	for _, p := range e.Params {
		var k int
		switch strings.ToLower(p.Name) {
		case paramServerNoContext:
			k, o.serverNoContext = 0, true
		case paramClientNoContext:
			k, o.clientNoContext = 1, true
		case paramServerMaxBits:
			k = 2
			if !p.HasValue {
				return o, errors.New(paramServerMaxBits + " without a value")
			}
		case paramClientMaxBits:
			k, o.clientBitsSet = 3, true
			if !p.HasValue && response {
				return o, errors.New(paramClientMaxBits + " without a value")
			}
		default:
			return o, fmt.Errorf("unknown parameter %q", p.Name)
		}
		if seen[k] {
			return o, fmt.Errorf("repeated parameter %q", p.Name)
		}
		seen[k] = true
		switch k {
		case 0, 1:
			if p.HasValue {
				return o, fmt.Errorf("parameter %q takes no value", p.Name)
			}
		case 2, 3:
			bits := uint8(maxWindowBits)
			if p.HasValue {
				var ok bool
				if bits, ok = windowBits(p.Value); !ok {
					return o, fmt.Errorf("parameter %q: bad value %q", p.Name, p.Value)
				}
			}
			if k == 2 {
				o.serverBits = bits
			} else {
				o.clientBits = bits
			}
		}
	}
	return o, nil
}

// windowBits parses a window size: "8" to "15", digits only, no leading
// zero.
func windowBits(v string) (uint8, bool) {
	if len(v) == 0 || len(v) > 2 || v[0] == '0' {
		return 0, false
	}
	n := 0
	for i := range len(v) {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
		n = n*10 + int(v[i]-'0')
	}
	if n < minWindowBits || n > maxWindowBits {
		return 0, false
	}
	return uint8(n), true
}

// negotiate is the server's side of RFC 7692 for mode: it accepts the
// first permessage-deflate offer in offers whose parameters are valid and
// returns the Sec-WebSocket-Extensions response and the settled Params. An
// offer with a repeated or unknown parameter or an invalid value is
// declined and the next one is tried; other extensions are ignored. The
// response is empty, and p zero, when no offer is acceptable or mode is
// ModeDisabled (or unknown). Codec.Negotiate documents the answers.
func negotiate(offers []Extension, mode Mode) (response string, p Params) {
	if mode >= ModeDisabled {
		return "", Params{}
	}
	for _, e := range offers {
		if !strings.EqualFold(e.Name, Name) {
			continue
		}
		o, err := parseDeflate(e, false)
		if err != nil {
			continue
		}
		p = Params{
			ServerNoContextTakeover: o.serverNoContext || mode != ModeContextTakeover,
			ClientNoContextTakeover: true,
			ServerMaxWindowBits:     maxWindowBits,
			ClientMaxWindowBits:     maxWindowBits,
		}
		if o.serverBits != 0 {
			p.ServerMaxWindowBits = o.serverBits
		}
		return p.response(o.serverBits != 0), p
	}
	return "", Params{}
}

// response formats the server's Sec-WebSocket-Extensions value for p.
// server_max_window_bits is echoed whenever the offer had it, even at 15,
// since that is how RFC 7692 §7.1.2.1 accepts it.
func (p Params) response(echoServerBits bool) string {
	s := Name
	if p.ServerNoContextTakeover {
		s += "; " + paramServerNoContext
	}
	if p.ClientNoContextTakeover {
		s += "; " + paramClientNoContext
	}
	if echoServerBits {
		s += "; " + paramServerMaxBits + "=" + strconv.Itoa(int(p.ServerMaxWindowBits))
	}
	return s
}

// parseResponse reads the permessage-deflate element of a server's
// Sec-WebSocket-Extensions response lines and returns its Params; ok is
// false when there is none. Other extensions are ignored. A response with
// two permessage-deflate elements, or one whose parameters break RFC 7692
// §7.1 (repeated, unknown, a window size outside 8 to 15,
// client_max_window_bits without a value), is an error wrapping
// ErrBadResponse or ErrSyntax. AcceptResponse adds the checks that depend
// on ClientOffer.
func parseResponse(lines []string) (p Params, ok bool, err error) {
	exts, err := ParseExtensions(lines)
	if err != nil {
		return Params{}, false, err
	}
	for _, e := range exts {
		if !strings.EqualFold(e.Name, Name) {
			continue
		}
		if ok {
			return Params{}, false, fmt.Errorf("%w: %s accepted twice", ErrBadResponse, Name)
		}
		o, err := parseDeflate(e, true)
		if err != nil {
			return Params{}, false, fmt.Errorf("%w: %s", ErrBadResponse, err.Error())
		}
		ok = true
		p = Params{
			ServerNoContextTakeover: o.serverNoContext,
			ClientNoContextTakeover: o.clientNoContext,
			ServerMaxWindowBits:     maxWindowBits,
			ClientMaxWindowBits:     maxWindowBits,
		}
		if o.serverBits != 0 {
			p.ServerMaxWindowBits = o.serverBits
		}
		if o.clientBits != 0 {
			p.ClientMaxWindowBits = o.clientBits
		}
	}
	return p, ok, nil
}

// AcceptResponse is the client's check of the server's answer to
// ClientOffer (RFC 7692 §5 and §7.1): it reads the permessage-deflate
// element of the Sec-WebSocket-Extensions response lines, and the server must
// have agreed to server_no_context_takeover, since the client inflates
// every message on its own. ok is false when the server declined
// compression. A response with two permessage-deflate elements, or one
// whose parameters break RFC 7692 §7.1 (repeated, unknown, a window size
// outside 8 to 15, client_max_window_bits without a value), is an error
// wrapping ErrBadResponse or ErrSyntax: the client must fail the
// connection. Other extensions in the response are ignored.
func AcceptResponse(lines []string) (p Params, ok bool, err error) {
	p, ok, err = parseResponse(lines)
	if err != nil || !ok {
		return Params{}, false, err
	}
	if !p.ServerNoContextTakeover {
		return Params{}, false, fmt.Errorf("%w: %s missing, it was offered", ErrBadResponse, paramServerNoContext)
	}
	return p, true, nil
}
