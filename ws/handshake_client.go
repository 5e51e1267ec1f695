package ws

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DialOptions configures the client side of an opening handshake. The
// zero value offers no subprotocol and no extension.
type DialOptions struct {
	// Header holds extra request headers (Origin, Authorization…). It
	// cannot replace the headers the handshake itself sets, nor Host.
	Header http.Header
	// Subprotocols are offered in Sec-WebSocket-Protocol, in order.
	Subprotocols []string
	// Extensions is the Sec-WebSocket-Extensions offer ("" offers none).
	Extensions string
	// NetDialer dials the TCP connection in Dial; nil uses a zero
	// net.Dialer. It lets a load generator pick a local address.
	NetDialer *net.Dialer
	// NetDial, when set, dials the TCP connection in Dial instead of
	// NetDialer: a program that routes or cuts its connections (a test,
	// a load generator) hands its own.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLSConfig is used by Dial for wss:// URLs; nil uses the defaults.
	// When its ServerName is empty, the URL's host name is used (on a
	// copy: the caller's config is not modified).
	TLSConfig *tls.Config
}

// ClientHandshake performs the client side of the opening handshake (RFC
// 6455 §4.1) over conn for u, which names the host and the request path.
// Its scheme is not looked at: for wss the caller wraps conn in TLS first
// (Dial does).
//
// It checks that the server answered 101 with Upgrade and Connection
// tokens, the right Sec-WebSocket-Accept, a subprotocol among those
// offered (or none) and only extensions that were offered. A rejection is
// a *HandshakeError (matching ErrBadHandshake) carrying the server's HTTP
// status; resp is returned with it when a response was read, its body
// unread. Other errors are I/O errors, or ctx's error when ctx ended first.
//
// While it runs, ClientHandshake sets deadlines on conn from ctx and clears
// them before returning. The returned bufio.Reader reads from conn and may
// already hold frames the server sent right after the 101: read through
// it, or drain its Buffered bytes first.
func ClientHandshake(ctx context.Context, conn net.Conn, u *url.URL, opts DialOptions) (*bufio.Reader, Handshake, *http.Response, error) {
	if u.Host == "" {
		return nil, Handshake{}, nil, errors.New("ws: handshake: URL has no host")
	}
	var nonce [16]byte
	_, _ = rand.Read(nonce[:]) // never fails since Go 1.24
	key := base64.StdEncoding.EncodeToString(nonce[:])

	h := opts.Header.Clone()
	if h == nil {
		h = make(http.Header, 6)
	}
	h.Del("Host")
	h.Set("Upgrade", "websocket")
	h.Set("Connection", "Upgrade")
	h.Set("Sec-WebSocket-Key", key)
	h.Set("Sec-WebSocket-Version", "13")
	h.Del("Sec-WebSocket-Protocol")
	h.Del("Sec-WebSocket-Extensions")
	if len(opts.Subprotocols) > 0 {
		h.Set("Sec-WebSocket-Protocol", strings.Join(opts.Subprotocols, ", "))
	}
	if opts.Extensions != "" {
		h.Set("Sec-WebSocket-Extensions", opts.Extensions)
	}
	var req bytes.Buffer
	req.WriteString("GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\n")
	_ = h.Write(&req) // a bytes.Buffer does not fail
	req.WriteString("\r\n")

	stop := watchContext(ctx, conn)
	br, resp, err := roundTrip(conn, req.Bytes(), u)
	if ctxErr := stop(); err != nil {
		if ctxErr != nil {
			err = ctxErr
		}
		return nil, Handshake{}, nil, fmt.Errorf("ws: handshake: %w", err)
	}
	hs, err := checkResponse(resp, key, opts)
	if err != nil {
		return nil, Handshake{}, resp, err
	}
	return br, hs, resp, nil
}

// roundTrip writes req to conn and reads the response head.
func roundTrip(conn net.Conn, req []byte, u *url.URL) (*bufio.Reader, *http.Response, error) {
	if _, err := conn.Write(req); err != nil {
		return nil, nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet, URL: u})
	if err != nil {
		return nil, nil, err
	}
	return br, resp, nil
}

// checkResponse checks the server's answer to a handshake with key.
func checkResponse(resp *http.Response, key string, opts DialOptions) (Handshake, error) {
	reject := func(reason string) (Handshake, error) {
		return Handshake{}, &HandshakeError{Status: resp.StatusCode, Reason: reason}
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return reject("server answered " + resp.Status)
	}
	if !HasToken(resp.Header, "Upgrade", "websocket") {
		return reject("response Upgrade header does not list websocket")
	}
	if !HasToken(resp.Header, "Connection", "upgrade") {
		return reject("response Connection header does not list upgrade")
	}
	if a := resp.Header.Values("Sec-WebSocket-Accept"); len(a) != 1 || a[0] != AcceptKey(key) {
		return reject("wrong Sec-WebSocket-Accept")
	}
	var hs Handshake
	switch p := HeaderTokens(resp.Header, "Sec-WebSocket-Protocol"); {
	case len(p) > 1:
		return reject("several subprotocols selected")
	case len(p) == 1:
		if !slices.Contains(opts.Subprotocols, p[0]) {
			return reject("server selected a subprotocol that was not offered")
		}
		hs.Subprotocol = p[0]
	}
	if ext := resp.Header.Values("Sec-WebSocket-Extensions"); len(ext) > 0 {
		offered := extensionNames([]string{opts.Extensions})
		for _, name := range extensionNames(ext) {
			if !slices.Contains(offered, name) {
				return reject("server accepted extension " + name + " that was not offered")
			}
		}
		hs.Extensions = strings.Join(ext, ", ")
	}
	return hs, nil
}

// watchContext makes I/O on conn fail once ctx ends, by moving conn's
// deadline, until the returned stop is called. stop clears the deadline,
// waits for any deadline change in flight and returns ctx's error if ctx
// ended.
func watchContext(ctx context.Context, conn net.Conn) (stop func() error) {
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	fired := make(chan struct{})
	stopAfter := context.AfterFunc(ctx, func() {
		_ = conn.SetDeadline(time.Unix(1, 0)) // in the past: pending I/O fails now
		close(fired)
	})
	return func() error {
		if !stopAfter() && ctx.Done() != nil {
			<-fired
		}
		_ = conn.SetDeadline(time.Time{})
		if d, ok := ctx.Deadline(); ok && ctx.Err() == nil && !time.Now().Before(d) {
			// conn's deadline fired a moment before ctx's own timer.
			return context.DeadlineExceeded
		}
		return ctx.Err()
	}
}

// Dial connects to a ws:// or wss:// URL and performs ClientHandshake. ctx
// bounds the TCP connect, the TLS handshake and the opening handshake; it
// does not affect the returned connection. On success the caller owns conn
// (a *tls.Conn for wss) and must close it; the bufio.Reader reads from
// conn and may already hold frames. Errors that come from the server's
// answer are *HandshakeError, as from ClientHandshake.
func Dial(ctx context.Context, rawURL string, opts DialOptions) (net.Conn, *bufio.Reader, Handshake, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, Handshake{}, fmt.Errorf("ws: dial: %w", err)
	}
	var port string
	switch u.Scheme {
	case "ws":
		port = "80"
	case "wss":
		port = "443"
	default:
		return nil, nil, Handshake{}, fmt.Errorf("ws: dial: scheme %q is not ws or wss", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, nil, Handshake{}, errors.New("ws: dial: URL has no host")
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	dial := opts.NetDial
	if dial == nil {
		d := opts.NetDialer
		if d == nil {
			d = &net.Dialer{}
		}
		dial = d.DialContext
	}
	conn, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, Handshake{}, fmt.Errorf("ws: dial: %w", err)
	}
	if u.Scheme == "wss" {
		cfg := opts.TLSConfig.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, nil, Handshake{}, fmt.Errorf("ws: dial: %w", err)
		}
		conn = tc
	}
	br, hs, _, err := ClientHandshake(ctx, conn, u, opts)
	if err != nil {
		conn.Close()
		return nil, nil, Handshake{}, err
	}
	return conn, br, hs, nil
}
