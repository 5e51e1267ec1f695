package backend

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wsgate/wsgate/internal/errcode"
)

// ConnectMethod is the method the connection hook is posted to, under
// the backend's URL. Its leading '_' keeps it out of clients' reach: the
// server refuses their calls to any method named so.
const ConnectMethod = "_connect"

// MaxConnectReply bounds the connection hook's reply body, in bytes.
const MaxConnectReply = 64 << 10

// ErrUnauthorized is wrapped by Connect's error when the hook answered
// 401: the credentials are not valid.
var ErrUnauthorized = errors.New("backend: not authenticated")

// ErrForbidden is wrapped by Connect's error when the hook answered 403:
// the credentials are valid, the connection is not allowed.
var ErrForbidden = errors.New("backend: forbidden")

// ConnectRequest is what a connecting client presented.
type ConnectRequest struct {
	// Remote is the client's IP address; "" when unknown (a token sent
	// in a message comes alone), and then not sent.
	Remote string
	// Token is the token the client presented, "" when none.
	Token string
	// Header holds the header fields to forward: Cookie and the fields
	// the server was told to forward, as the client sent them. Connect
	// does not modify it.
	Header http.Header
}

// NewConnectRequest returns the ConnectRequest of a handshake r that
// carries token ("" for none): its Cookie field and the fields named in
// forward, each when present, and the IP address of r.RemoteAddr.
func NewConnectRequest(r *http.Request, forward []string, token string) ConnectRequest {
	h := make(http.Header)
	for _, name := range append([]string{"Cookie"}, forward...) {
		name = http.CanonicalHeaderKey(name)
		if v := r.Header.Values(name); len(v) > 0 && h[name] == nil {
			h[name] = v
		}
	}
	remote, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		remote = r.RemoteAddr
	}
	return ConnectRequest{Remote: remote, Token: token, Header: h}
}

// Empty reports whether req carries nothing to check: no token and no
// header field.
func (req ConnectRequest) Empty() bool { return req.Token == "" && len(req.Header) == 0 }

// key identifies req for sharing one hook request among identical ones.
func (req ConnectRequest) key() [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	put := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	put(req.Remote)
	put(req.Token)
	names := make([]string, 0, len(req.Header))
	for name := range req.Header {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		put(name)
		for _, v := range req.Header[name] {
			put(v)
		}
		put("") // ends the field's values
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// CheckForwardHeader returns an error when the header field name cannot
// be forwarded to the hook: not a valid field name, or one the request
// sets itself or that governs the connection to the backend.
func CheckForwardHeader(name string) error {
	if name == "" || strings.ContainsFunc(name, func(r rune) bool { return !isTokenChar(r) }) {
		return fmt.Errorf("backend: header name %q: not a valid field name", name)
	}
	switch http.CanonicalHeaderKey(name) {
	case "Host", "Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding", "Connection", "Upgrade",
		"Te", "Trailer", "Keep-Alive", "Proxy-Connection", "Accept", UserHeader:
		return fmt.Errorf("backend: header %q cannot be forwarded", name)
	}
	return nil
}

// isTokenChar reports whether r may appear in a header field name (RFC
// 9110, section 5.6.2).
func isTokenChar(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}

// Identity is the connection hook's answer: who the client is.
type Identity struct {
	User    string
	Expires time.Time // zero: never
	// Permissions is the answer's "permissions" object as it came, nil
	// when there is none.
	Permissions json.RawMessage
	// Info is the answer's "info" object, nil when there is none.
	Info map[string]any
}

// ParseConnectReply parses the body of a 200 answer of the connection
// hook:
//
//	{"user":"alice","expires":1767225600,"permissions":{…},"info":{…}}
//
// "user" is required: a non-empty string without control characters.
// "expires" (Unix seconds, a positive integer), "permissions" and "info"
// (objects) may be absent or null; other members are ignored. The
// returned Identity does not share memory with body.
func ParseConnectReply(body []byte) (Identity, error) {
	var v struct {
		User        *string         `json:"user"`
		Expires     json.RawMessage `json:"expires"`
		Permissions json.RawMessage `json:"permissions"`
		Info        json.RawMessage `json:"info"`
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' || !utf8.Valid(body) {
		return Identity{}, errors.New("backend: connect reply: not a JSON object")
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return Identity{}, fmt.Errorf("backend: connect reply: %v", err)
	}
	var id Identity
	switch {
	case v.User == nil:
		return Identity{}, errors.New(`backend: connect reply: no "user"`)
	case *v.User == "" || !validHeaderValue(*v.User) || strings.ContainsRune(*v.User, '\t'):
		return Identity{}, fmt.Errorf(`backend: connect reply: "user" %q: want a name without control characters`, prefix([]byte(*v.User), 64))
	}
	id.User = *v.User
	if isSet(v.Expires) {
		var sec int64
		if err := json.Unmarshal(v.Expires, &sec); err != nil || sec <= 0 || sec > 1<<40 {
			return Identity{}, fmt.Errorf(`backend: connect reply: "expires" %s: want Unix seconds`, prefix(v.Expires, 32))
		}
		id.Expires = time.Unix(sec, 0)
	}
	if isSet(v.Permissions) {
		if v.Permissions[0] != '{' {
			return Identity{}, errors.New(`backend: connect reply: "permissions" is not an object`)
		}
		id.Permissions = bytes.Clone(v.Permissions)
	}
	if isSet(v.Info) {
		if err := json.Unmarshal(v.Info, &id.Info); err != nil || id.Info == nil {
			return Identity{}, errors.New(`backend: connect reply: "info" is not an object`)
		}
	}
	return id, nil
}

// isSet reports whether a member was present and not null.
func isSet(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// Connect asks the backend's connection hook who presented req:
//
//	POST URL/_connect
//	Content-Type: application/json
//	Cookie: …                        (and the other fields of req.Header)
//
//	{"remote":"203.0.113.7","token":"…"}   (each only when req has it)
//
// A 200 answer is parsed by ParseConnectReply. A 401 answer makes an error
// wrapping ErrUnauthorized, a 403 one wrapping ErrForbidden; their message
// (Error.Message) is the answer's own when its body has one, as for calls.
// Any other failure means the hook could not say: another status, a body
// that ParseConnectReply refuses or larger than MaxConnectReply, no
// connection, or no answer within Config.Timeout or before ctx ends.
//
// Concurrent Connects with identical requests (same remote address,
// token and header fields) share one hook request and its answer, so
// that a crowd reconnecting at once with the same credentials costs the
// backend one request. The shared request runs until it ends or
// Config.Timeout passes, even if the ctx of the Connect that started it
// ends first; each Connect returns when its own ctx ends.
func (c *Client) Connect(ctx context.Context, req ConnectRequest) (Identity, error) {
	k := req.key()
	c.connectMu.Lock()
	f := c.connects[k]
	if f == nil {
		f = &connectFlight{done: make(chan struct{})}
		c.connects[k] = f
		c.connectMu.Unlock()
		f.id, f.err = c.connect(context.WithoutCancel(ctx), req)
		c.connectMu.Lock()
		delete(c.connects, k)
		c.connectMu.Unlock()
		close(f.done)
		return f.id, f.err
	}
	c.connectMu.Unlock()
	select {
	case <-f.done:
		return f.id, f.err
	case <-ctx.Done():
		return Identity{}, cancelled(ctx.Err())
	}
}

// connectFlight is one hook request that identical Connects wait for.
// id and err are written before done is closed and only read after.
type connectFlight struct {
	done chan struct{}
	id   Identity
	err  error
}

// connect makes one hook request.
func (c *Client) connect(ctx context.Context, req ConnectRequest) (Identity, error) {
	body, err := json.Marshal(struct {
		Remote string `json:"remote,omitempty"`
		Token  string `json:"token,omitempty"`
	}{req.Remote, req.Token})
	if err != nil {
		return Identity{}, &Error{Code: errcode.Unavailable, Message: "backend: connect request cannot be built", err: err}
	}
	if err := c.acquire(ctx); err != nil {
		return Identity{}, err
	}
	defer func() { <-c.sem }()
	callCtx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(callCtx, http.MethodPost, c.base+"/"+ConnectMethod, bytes.NewReader(body))
	if err != nil {
		return Identity{}, &Error{Code: errcode.Unavailable, Message: "backend: connect request cannot be built", err: err}
	}
	hr.Header = make(http.Header, len(req.Header)+2)
	for name, v := range req.Header {
		if CheckForwardHeader(name) == nil {
			hr.Header[http.CanonicalHeaderKey(name)] = v
		}
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(hr)
	if err != nil {
		return Identity{}, c.connectFailure(callCtx, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxConnectReply+1))
	if err != nil {
		return Identity{}, c.connectFailure(callCtx, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		e := statusError(resp.StatusCode, b)
		e.err = ErrUnauthorized
		if resp.StatusCode == http.StatusForbidden {
			e.err = ErrForbidden
		}
		return Identity{}, e
	default:
		return Identity{}, &Error{Code: errcode.Unavailable, Message: "backend: connect hook answered " + resp.Status, Status: resp.StatusCode}
	}
	if len(b) > MaxConnectReply {
		return Identity{}, &Error{Code: errcode.Unavailable, Message: fmt.Sprintf("backend: connect reply larger than %d bytes", MaxConnectReply), Status: resp.StatusCode}
	}
	id, err := ParseConnectReply(b)
	if err != nil {
		return Identity{}, &Error{Code: errcode.Unavailable, Message: "backend: unusable connect reply", Status: resp.StatusCode, err: err}
	}
	return id, nil
}

// connectFailure classifies an error of the hook's exchange; it logs
// nothing (the server logs what it could not check, at a bounded rate).
func (c *Client) connectFailure(callCtx context.Context, err error) *Error {
	var ne net.Error
	if errors.Is(callCtx.Err(), context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return &Error{Code: errcode.Timeout, Message: "backend: no connect answer within " + c.cfg.Timeout.String(), err: err}
	}
	return &Error{Code: errcode.Unavailable, Message: "backend: connect hook unreachable", err: err}
}
