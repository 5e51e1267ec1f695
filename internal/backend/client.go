package backend

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/wsgate/wsgate/internal/errcode"
)

// UserHeader carries the identity of the connection that made a call, when
// there is one. A backend may key private results on it.
const UserHeader = "X-Wsgate-User"

// ErrInvalidURL is wrapped by New when Config.URL is not an absolute http
// or https URL without query or fragment.
var ErrInvalidURL = errors.New("backend: invalid URL")

// maxErrorBody is how much of an error reply's body is read for its
// message, in bytes.
const maxErrorBody = 64 << 10

// Config configures a Client. Only URL is required; every other zero field
// takes the default its comment gives.
type Config struct {
	// URL is the backend's base URL: a call of method m is POST URL/m, so
	// https://api.example.com/rpc sends "orders.get" to
	// https://api.example.com/rpc/orders.get. A trailing slash is ignored.
	URL string
	// Timeout bounds one call from sending the request to reading the last
	// byte of the reply. Zero means 10s.
	Timeout time.Duration
	// MaxConcurrent caps the calls to the backend in flight at once; the
	// pool keeps as many idle keep-alive connections. Zero means 256.
	MaxConcurrent int
	// QueueTimeout is how long a call beyond MaxConcurrent waits for a slot
	// before it fails with errcode.Unavailable. Zero means 1s; negative means
	// it fails at once.
	QueueTimeout time.Duration
	// MaxResponseSize limits a reply body in bytes. A larger one fails the
	// call with errcode.Unavailable and is logged. Zero means 4 MiB.
	MaxResponseSize int64
	// Logger receives a line for each reply that cannot be used (not JSON,
	// too large, a redirect) and each failure to reach the backend. Nil
	// means slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = 256
	}
	if c.QueueTimeout == 0 {
		c.QueueTimeout = time.Second
	}
	if c.MaxResponseSize <= 0 {
		c.MaxResponseSize = 4 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Response is a successful call's reply.
type Response struct {
	// Body is the result: valid JSON without surrounding whitespace,
	// "null" for a 204 reply. It belongs to the caller.
	Body  []byte
	Cache CacheControl
}

// Client calls methods on an HTTP backend over a pool of keep-alive
// connections. A Client is safe for concurrent use; make one per backend
// and share it.
type Client struct {
	cfg  Config
	base string // URL without its trailing slash
	http *http.Client
	tr   *http.Transport
	sem  chan struct{} // one token per call in flight
	log  *slog.Logger

	connectMu sync.Mutex
	connects  map[[sha256.Size]byte]*connectFlight // Connect's requests in flight, by key
}

// New returns a Client for the backend at cfg.URL. It connects lazily: a
// backend that is down makes calls fail, not New.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	u, err := url.Parse(cfg.URL)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w %q: %v", ErrInvalidURL, cfg.URL, err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return nil, fmt.Errorf("%w %q: want http:// or https:// and a host", ErrInvalidURL, cfg.URL)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return nil, fmt.Errorf("%w %q: no query, fragment or credentials allowed", ErrInvalidURL, cfg.URL)
	}
	dialer := &net.Dialer{Timeout: min(5*time.Second, cfg.Timeout), KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           cfg.MaxConcurrent,
		MaxIdleConnsPerHost:    cfg.MaxConcurrent,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    min(5*time.Second, cfg.Timeout),
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &Client{
		cfg:  cfg,
		base: strings.TrimRight(cfg.URL, "/"),
		http: &http.Client{
			Transport: tr,
			// A redirect is a misconfigured backend; following it would
			// turn a POST into a GET.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		tr:       tr,
		sem:      make(chan struct{}, cfg.MaxConcurrent),
		log:      cfg.Logger,
		connects: make(map[[sha256.Size]byte]*connectFlight),
	}, nil
}

// Close closes the idle connections of the pool. Calls in flight are not
// interrupted (cancel their contexts for that), and the Client stays
// usable: a later call dials again.
func (c *Client) Close() { c.tr.CloseIdleConnections() }

// InFlight returns the number of calls holding a concurrency slot now.
func (c *Client) InFlight() int { return len(c.sem) }

// Call posts args to URL/method and returns the reply. args is sent as the
// JSON body as it is (the caller has validated it); nil or empty args are
// sent as {}. user, when not empty, is sent in the UserHeader field. Call
// does not retain args.
//
// Every error Call returns is an *Error whose Code is the wire code the
// client should see: see the Code constants for the mapping. The call ends
// when ctx ends, when Config.Timeout passes, or when it waited
// Config.QueueTimeout for a slot in vain.
func (c *Client) Call(ctx context.Context, method string, args json.RawMessage, user string) (Response, error) {
	if !validMethod(method) {
		return Response{}, &Error{Code: errcode.BadRequest, Message: fmt.Sprintf("backend: method name %q cannot be sent", method)}
	}
	if !validHeaderValue(user) {
		return Response{}, &Error{Code: errcode.BadRequest, Message: "backend: user identity cannot be sent"}
	}
	if len(args) == 0 {
		args = json.RawMessage("{}")
	}
	if err := c.acquire(ctx); err != nil {
		return Response{}, err
	}
	defer func() { <-c.sem }()

	callCtx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, http.MethodPost, c.base+"/"+method, bytes.NewReader(args))
	if err != nil {
		return Response{}, &Error{Code: errcode.BadRequest, Message: "backend: request cannot be built", err: err}
	}
	req.Header = http.Header{
		"Content-Type": {"application/json"},
		"Accept":       {"application/json"},
	}
	if user != "" {
		req.Header[UserHeader] = []string{user}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Response{}, c.failure(ctx, callCtx, method, err)
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusNoContent:
		return Response{Body: json.RawMessage("null"), Cache: ParseCacheControl(resp.Header)}, nil
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return c.result(ctx, callCtx, method, resp)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		c.log.Warn("backend: redirect ignored", "method", method, "status", resp.StatusCode, "location", resp.Header.Get("Location"))
		return Response{}, &Error{Code: errcode.Unavailable, Message: "backend: unusable reply", Status: resp.StatusCode}
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody)) // let a short tail keep the connection
	return Response{}, statusError(resp.StatusCode, body)
}

// result reads a 2xx reply's body, which must be valid JSON of at most
// MaxResponseSize bytes.
func (c *Client) result(ctx, callCtx context.Context, method string, resp *http.Response) (Response, error) {
	limit := c.cfg.MaxResponseSize
	if resp.ContentLength > limit {
		c.log.Warn("backend: reply too large", "method", method, "bytes", resp.ContentLength, "limit", limit)
		return Response{}, &Error{Code: errcode.Unavailable, Message: "backend: reply too large", Status: resp.StatusCode}
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return Response{}, c.failure(ctx, callCtx, method, err)
	}
	if n > limit {
		c.log.Warn("backend: reply too large", "method", method, "bytes", ">"+strconv.FormatInt(limit, 10), "limit", limit)
		return Response{}, &Error{Code: errcode.Unavailable, Message: "backend: reply too large", Status: resp.StatusCode}
	}
	body := bytes.TrimSpace(buf.Bytes())
	if !json.Valid(body) || !utf8.Valid(body) { // a text frame must be UTF-8 (RFC 6455, section 5.6)
		c.log.Warn("backend: reply is not JSON", "method", method, "status", resp.StatusCode, "bytes", len(body), "start", prefix(body, 64))
		return Response{}, &Error{Code: errcode.Unavailable, Message: "backend: unusable reply", Status: resp.StatusCode}
	}
	return Response{Body: body, Cache: ParseCacheControl(resp.Header)}, nil
}

// acquire takes a concurrency slot, waiting at most QueueTimeout.
func (c *Client) acquire(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		return nil
	default:
	}
	if c.cfg.QueueTimeout < 0 {
		return &Error{Code: errcode.Unavailable, Message: "backend: too many calls in flight"}
	}
	t := time.NewTimer(c.cfg.QueueTimeout)
	defer t.Stop()
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-t.C:
		return &Error{Code: errcode.Unavailable, Message: "backend: too many calls in flight"}
	case <-ctx.Done():
		return cancelled(ctx.Err())
	}
}

// failure classifies an error of the exchange. ctx is the caller's,
// callCtx the one bounded by Timeout.
func (c *Client) failure(ctx, callCtx context.Context, method string, err error) *Error {
	if ctx.Err() != nil {
		return cancelled(ctx.Err())
	}
	var ne net.Error
	if errors.Is(callCtx.Err(), context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &Error{Code: errcode.Timeout, Message: "backend: no reply within " + c.cfg.Timeout.String(), err: err}
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		c.log.Warn("backend: connection refused", "method", method, "url", c.base)
	} else {
		c.log.Warn("backend: call failed", "method", method, "err", err)
	}
	return &Error{Code: errcode.Unavailable, Message: "backend: unreachable", err: err}
}

// cancelled is the error of a call whose caller's context ended.
func cancelled(err error) *Error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: errcode.Timeout, Message: "backend: call timed out", err: err}
	}
	return &Error{Code: errcode.Unavailable, Message: "backend: call cancelled", err: err}
}

// validMethod reports whether m can be appended to the base URL's path
// as it is: 1–128 bytes of [A-Za-z0-9._:/-], no leading slash, no empty,
// "." or ".." segment.
func validMethod(m string) bool {
	if m == "" || len(m) > 128 {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '/' || c == '-') {
			return false
		}
	}
	for seg := range strings.SplitSeq(m, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether v can be sent as a header field value:
// no control bytes other than tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// prefix returns at most n bytes of b as a string for a log line.
func prefix(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
