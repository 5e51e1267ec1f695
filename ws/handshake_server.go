package ws

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// acceptGUID is the GUID RFC 6455 §1.3 appends to the client's key.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value for a client's
// Sec-WebSocket-Key (RFC 6455 §4.2.2): the base64 of the SHA-1 of key and
// the protocol's GUID.
func AcceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte(acceptGUID))
	var sum [sha1.Size]byte
	return base64.StdEncoding.EncodeToString(h.Sum(sum[:0]))
}

// validKey reports whether key is the base64 of exactly 16 bytes, in its
// canonical 24-character form (RFC 6455 §4.1, item 7).
func validKey(key string) bool {
	if len(key) != 24 {
		return false
	}
	var buf [18]byte
	n, err := base64.StdEncoding.Strict().Decode(buf[:], []byte(key))
	return err == nil && n == 16
}

// CheckRequest checks that r is a valid WebSocket opening handshake (RFC
// 6455 §4.2.1) and returns the client's Sec-WebSocket-Key. A rejection is
// a *HandshakeError with the HTTP status to answer:
//
//   - 405 when the method is not GET;
//   - 505 when the protocol is older than HTTP/1.1;
//   - 426 when there is no Upgrade header at all (a plain HTTP request to
//     a WebSocket endpoint);
//   - 400 when Upgrade does not list "websocket" or Connection does not
//     list "upgrade" (tokens, case-insensitive);
//   - 426 when Sec-WebSocket-Version is missing or is not exactly one "13";
//   - 400 when Sec-WebSocket-Key is missing, repeated or not the base64 of
//     16 bytes.
//
// CheckRequest does not look at Origin, subprotocols or extensions; the
// Upgrader does.
func CheckRequest(r *http.Request) (key string, err error) {
	switch {
	case r.Method != http.MethodGet:
		return "", &HandshakeError{Status: http.StatusMethodNotAllowed, Reason: "method is not GET"}
	case !r.ProtoAtLeast(1, 1):
		return "", &HandshakeError{Status: http.StatusHTTPVersionNotSupported, Reason: "HTTP version below 1.1"}
	case len(r.Header.Values("Upgrade")) == 0:
		return "", &HandshakeError{Status: http.StatusUpgradeRequired, Reason: "missing Upgrade: websocket"}
	case !HasToken(r.Header, "Upgrade", "websocket"):
		return "", &HandshakeError{Status: http.StatusBadRequest, Reason: "Upgrade header does not list websocket"}
	case !HasToken(r.Header, "Connection", "upgrade"):
		return "", &HandshakeError{Status: http.StatusBadRequest, Reason: "Connection header does not list upgrade"}
	}
	if v := r.Header.Values("Sec-WebSocket-Version"); len(v) != 1 || strings.Trim(v[0], " \t") != "13" {
		return "", &HandshakeError{Status: http.StatusUpgradeRequired, Reason: "unsupported Sec-WebSocket-Version"}
	}
	k := r.Header.Values("Sec-WebSocket-Key")
	if len(k) != 1 || !validKey(k[0]) {
		return "", &HandshakeError{Status: http.StatusBadRequest, Reason: "missing or invalid Sec-WebSocket-Key"}
	}
	return k[0], nil
}

// Upgrader accepts WebSocket opening handshakes (RFC 6455 §4.2). The zero
// value accepts every origin and negotiates no subprotocol and no
// extension. An Upgrader is safe for concurrent use as long as its fields
// are not changed.
type Upgrader struct {
	// Subprotocols the server speaks, in preference order. The first of
	// them the client offers is selected; when there is no overlap none is
	// selected, which is not an error.
	Subprotocols []string
	// CheckOrigin decides on the request's Origin header; false rejects
	// the handshake with 403. nil accepts every origin: the policy lives
	// above this package.
	CheckOrigin func(r *http.Request) bool
	// NegotiateExtensions receives the client's Sec-WebSocket-Extensions
	// lines and returns the value to answer with ("" accepts none). It is
	// called only when the client offers extensions; nil accepts none. An
	// error rejects the handshake: a *HandshakeError as it is, any other
	// error with 400.
	NegotiateExtensions func(offers []string) (response string, err error)
	// Header holds extra headers for the 101 response (may be nil). It
	// cannot replace the headers the handshake itself sets.
	Header http.Header
}

// Handshake is what an opening handshake settled on.
type Handshake struct {
	Subprotocol string // the selected subprotocol, "" for none
	Extensions  string // the Sec-WebSocket-Extensions response, "" for none
}

// Accept is the pure part of Upgrade: it checks r (CheckRequest, then
// CheckOrigin), selects a subprotocol, negotiates extensions and returns
// the headers of the 101 response. Errors are *HandshakeError. Accept does
// no I/O.
func (u *Upgrader) Accept(r *http.Request) (respHeader http.Header, hs Handshake, err error) {
	key, err := CheckRequest(r)
	if err != nil {
		return nil, Handshake{}, err
	}
	if u.CheckOrigin != nil && !u.CheckOrigin(r) {
		return nil, Handshake{}, &HandshakeError{Status: http.StatusForbidden, Reason: "origin not allowed"}
	}
	hs.Subprotocol = u.selectSubprotocol(r.Header)
	if offers := r.Header.Values("Sec-WebSocket-Extensions"); u.NegotiateExtensions != nil && len(offers) > 0 {
		resp, err := u.NegotiateExtensions(offers)
		if err != nil {
			var he *HandshakeError
			if errors.As(err, &he) {
				return nil, Handshake{}, he
			}
			return nil, Handshake{}, &HandshakeError{Status: http.StatusBadRequest, Reason: "extension negotiation failed", Err: err}
		}
		hs.Extensions = resp
	}
	respHeader = u.Header.Clone()
	if respHeader == nil {
		respHeader = make(http.Header, 5)
	}
	respHeader.Set("Upgrade", "websocket")
	respHeader.Set("Connection", "Upgrade")
	respHeader.Set("Sec-WebSocket-Accept", AcceptKey(key))
	respHeader.Del("Sec-WebSocket-Protocol")
	respHeader.Del("Sec-WebSocket-Extensions")
	if hs.Subprotocol != "" {
		respHeader.Set("Sec-WebSocket-Protocol", hs.Subprotocol)
	}
	if hs.Extensions != "" {
		respHeader.Set("Sec-WebSocket-Extensions", hs.Extensions)
	}
	return respHeader, hs, nil
}

// selectSubprotocol returns the first of u.Subprotocols that the client
// offers, compared exactly (subprotocol names are case-sensitive).
func (u *Upgrader) selectSubprotocol(h http.Header) string {
	if len(u.Subprotocols) == 0 {
		return ""
	}
	offered := HeaderTokens(h, "Sec-WebSocket-Protocol")
	for _, p := range u.Subprotocols {
		for _, o := range offered {
			if o == p {
				return p
			}
		}
	}
	return ""
}

// Upgrade validates r with Accept, takes over the connection from
// net/http and writes the 101 response.
//
// On a rejected handshake it answers through w with the status, a short
// plain-text reason and, for 405, "Allow: GET" and, for 426, "Upgrade:
// websocket" and "Sec-WebSocket-Version: 13", and returns the
// *HandshakeError. If w cannot be hijacked (HTTP/2, or a wrapper without
// Unwrap) it answers 500.
//
// On success it returns the connection and a bufio.Reader over it that
// may already hold bytes the client sent right after the request: read
// through it, or drain its Buffered bytes before reading conn directly
// (an event loop must, as the socket will not report them). The caller
// owns conn and must close it. Deadlines the http.Server set on conn are
// left as they are; the caller sets or clears them.
//
// Upgrade is safe for concurrent use.
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request) (net.Conn, *bufio.Reader, Handshake, error) {
	respHeader, hs, err := u.Accept(r)
	if err != nil {
		var he *HandshakeError
		if !errors.As(err, &he) {
			he = &HandshakeError{Status: http.StatusInternalServerError, Reason: "internal error", Err: err}
		}
		writeRejection(w, he)
		return nil, nil, Handshake{}, he
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		he := &HandshakeError{Status: http.StatusInternalServerError, Reason: "connection cannot be taken over", Err: err}
		writeRejection(w, he)
		return nil, nil, Handshake{}, he
	}
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	_ = respHeader.Write(&b) // a bytes.Buffer does not fail
	b.WriteString("\r\n")
	if _, err := conn.Write(b.Bytes()); err != nil {
		conn.Close()
		return nil, nil, Handshake{}, fmt.Errorf("ws: write handshake response: %w", err)
	}
	return conn, brw.Reader, hs, nil
}

// writeRejection answers a rejected handshake with e.Status, the headers
// that status calls for and e.Reason as a plain-text body.
func writeRejection(w http.ResponseWriter, e *HandshakeError) {
	h := w.Header()
	switch e.Status {
	case http.StatusMethodNotAllowed:
		h.Set("Allow", http.MethodGet)
	case http.StatusUpgradeRequired:
		h.Set("Upgrade", "websocket")
		h.Set("Sec-WebSocket-Version", "13")
	}
	http.Error(w, e.Reason, e.Status)
}
