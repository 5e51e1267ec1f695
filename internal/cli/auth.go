package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/internal/auth"
	"github.com/wsgate/wsgate/internal/backend"
)

// authOptions are the flags of --auth: who may connect to /ws.
type authOptions struct {
	mode       string // none, jwt or backend
	secretFile string
	keyFile    string
	jwksURL    string
	issuer     string
	audience   string
	skew       time.Duration
	timeout    time.Duration
	queryToken bool
	forward    listFlag // --auth-forward-headers
}

// listFlag is a comma-separated list flag that knows whether it was set.
type listFlag struct {
	value string
	set   bool
}

func (l *listFlag) String() string { return l.value }

func (l *listFlag) Set(s string) error {
	l.value, l.set = s, true
	return nil
}

func (o *authOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.mode, "auth", "none", "who may use /ws: none (anyone), jwt (a JSON Web Token, in the handshake's Sec-WebSocket-Protocol as wsgate.auth.TOKEN or as a first message {\"auth\":\"TOKEN\"}), or backend (the --backend answers POST /_connect with who the client is, from the handshake's Cookie, --auth-forward-headers and token)")
	fs.StringVar(&o.secretFile, "auth-jwt-secret-file", "", "file holding the HMAC secret of --auth jwt (HS256/384/512; at least 32 bytes; a final newline is dropped)")
	fs.StringVar(&o.keyFile, "auth-jwt-key-file", "", "PEM file of the RSA (RS*/PS*) or ECDSA (ES*) public key of --auth jwt")
	fs.StringVar(&o.jwksURL, "auth-jwks-url", "", "http(s) URL of the JWK Set of --auth jwt, fetched when needed and cached (Cache-Control max-age, 1m to 24h)")
	fs.StringVar(&o.issuer, "auth-issuer", "", "with --auth jwt, the \"iss\" a token must have (empty: any)")
	fs.StringVar(&o.audience, "auth-audience", "", "with --auth jwt, the \"aud\" a token must name (empty: any)")
	fs.DurationVar(&o.skew, "auth-skew", auth.DefaultSkew, "clock difference allowed on a token's exp, nbf and iat (1s to 5m); a connection is closed (4008) at exp plus this unless it sent a fresh token")
	fs.DurationVar(&o.timeout, "auth-timeout", wsgate.DefaultAuthTimeout, "time a client has after the handshake to have its token accepted (4009 after it); also bounds each check of a token and each /_connect request")
	fs.BoolVar(&o.queryToken, "auth-query-token", false, "also take the token from /ws?token=TOKEN (URLs end up in access logs: only for clients that can do nothing else)")
	o.forward.value = "Authorization"
	fs.Var(&o.forward, "auth-forward-headers", "with --auth backend, comma-separated header fields of the handshake sent to /_connect beside Cookie")
}

// check validates the flags without reading any file; backendURL is
// --backend's.
func (o authOptions) check(backendURL string) error {
	jwtOnly := o.secretFile != "" || o.keyFile != "" || o.jwksURL != "" || o.issuer != "" || o.audience != ""
	const jwtFlags = "--auth-jwt-secret-file, --auth-jwt-key-file, --auth-jwks-url, --auth-issuer and --auth-audience"
	switch o.mode {
	case "none":
		switch {
		case jwtOnly:
			return errors.New("wsgate: " + jwtFlags + " need --auth jwt")
		case o.queryToken:
			return errors.New("wsgate: --auth-query-token needs --auth jwt or backend")
		}
	case "jwt":
		n := 0
		for _, s := range []string{o.secretFile, o.keyFile, o.jwksURL} {
			if s != "" {
				n++
			}
		}
		if n != 1 {
			return errors.New("wsgate: --auth jwt: want exactly one of --auth-jwt-secret-file, --auth-jwt-key-file and --auth-jwks-url")
		}
		if o.jwksURL != "" {
			if u, err := url.Parse(o.jwksURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("wsgate: --auth-jwks-url %q: want an absolute http or https URL", o.jwksURL)
			}
		}
	case "backend":
		if backendURL == "" {
			return errors.New("wsgate: --auth backend needs --backend URL: the backend that answers POST URL/_connect")
		}
		if jwtOnly {
			return errors.New("wsgate: " + jwtFlags + " need --auth jwt, not backend")
		}
		for _, name := range splitList(o.forward.value) {
			if err := backend.CheckForwardHeader(name); err != nil {
				return fmt.Errorf("wsgate: --auth-forward-headers %q: %w", o.forward.value, err)
			}
		}
	default:
		return fmt.Errorf("wsgate: --auth %q: want none, jwt or backend", o.mode)
	}
	if o.forward.set && o.mode != "backend" {
		return errors.New("wsgate: --auth-forward-headers needs --auth backend")
	}
	if o.skew < time.Second || o.skew > auth.MaxSkew {
		return fmt.Errorf("wsgate: --auth-skew %v: want 1s to 5m0s", o.skew)
	}
	if o.timeout <= 0 {
		return fmt.Errorf("wsgate: --auth-timeout %v: want more than 0", o.timeout)
	}
	return nil
}

// authenticators are what the flags make of Config's Authenticate and
// AuthenticateHandshake; close releases what they hold.
type authenticators struct {
	token     func(context.Context, string) (wsgate.Identity, error)
	handshake func(context.Context, *http.Request) (wsgate.Identity, error)
	close     func()
}

// authenticator returns the authenticators of the flags: none for --auth
// none. It reads the secret or key file of --auth jwt; backendURL is
// --backend's, for --auth backend.
func (o authOptions) authenticator(backendURL string, logger *slog.Logger) (authenticators, error) {
	none := authenticators{close: func() {}}
	switch o.mode {
	case "backend":
		c, err := backend.New(backend.Config{URL: backendURL, Timeout: o.timeout, QueueTimeout: o.timeout, Logger: logger})
		if err != nil {
			return none, fmt.Errorf("wsgate: %w", err)
		}
		a := backendAuthenticators(c, splitList(o.forward.value), o.queryToken)
		a.close = c.Close
		return a, nil
	case "jwt":
	default:
		return none, nil
	}
	opts := auth.Options{JWKSURL: o.jwksURL, Issuer: o.issuer, Audience: o.audience, Skew: o.skew}
	switch {
	case o.secretFile != "":
		b, err := os.ReadFile(o.secretFile)
		if err != nil {
			return none, fmt.Errorf("wsgate: --auth-jwt-secret-file: %w", err)
		}
		opts.Secret = []byte(strings.TrimRight(string(b), "\r\n"))
	case o.keyFile != "":
		b, err := os.ReadFile(o.keyFile)
		if err != nil {
			return none, fmt.Errorf("wsgate: --auth-jwt-key-file: %w", err)
		}
		if opts.PublicKey, err = auth.ParsePublicKey(b); err != nil {
			return none, fmt.Errorf("wsgate: --auth-jwt-key-file %q: %w", o.keyFile, err)
		}
	}
	v, err := auth.New(opts)
	if err != nil {
		flagName, value := "--auth-jwks-url", o.jwksURL
		switch {
		case o.secretFile != "":
			flagName, value = "--auth-jwt-secret-file", o.secretFile
		case o.keyFile != "":
			flagName, value = "--auth-jwt-key-file", o.keyFile
		}
		return none, fmt.Errorf("wsgate: %s %q: %w", flagName, value, err)
	}
	return authenticators{token: jwtAuthenticator(v), close: func() {}}, nil
}

// jwtAuthenticator adapts v to Config.Authenticate: the user is "sub",
// and the connection may live until exp plus the allowed skew.
func jwtAuthenticator(v *auth.Verifier) func(context.Context, string) (wsgate.Identity, error) {
	return func(ctx context.Context, token string) (wsgate.Identity, error) {
		t, err := v.Verify(ctx, token)
		if errors.Is(err, auth.ErrUnavailable) {
			return wsgate.Identity{}, fmt.Errorf("%w: %w", wsgate.ErrAuthUnavailable, err)
		}
		if err != nil {
			return wsgate.Identity{}, err
		}
		return wsgate.Identity{User: t.Subject, Expires: t.Expires.Add(v.Skew()), Claims: t.Claims}, nil
	}
}

// backendAuthenticators asks the backend's connection hook (c.Connect)
// who a client is: at the handshake from its Cookie, the fields named in
// forward and its token (the subprotocol, or with queryToken the URL's
// "token"), finding no credentials when it has none of them; after it
// from a token message alone.
func backendAuthenticators(c *backend.Client, forward []string, queryToken bool) authenticators {
	ask := func(ctx context.Context, req backend.ConnectRequest) (wsgate.Identity, error) {
		id, err := c.Connect(ctx, req)
		if err != nil {
			return wsgate.Identity{}, hookError(err)
		}
		out := wsgate.Identity{User: id.User, Expires: id.Expires, Claims: id.Info}
		if id.Permissions != nil {
			out.Permissions = new(wsgate.Permissions)
			if err := json.Unmarshal(id.Permissions, out.Permissions); err != nil {
				return wsgate.Identity{}, fmt.Errorf("%w: backend: connect reply: \"permissions\": %v", wsgate.ErrAuthUnavailable, err)
			}
		}
		return out, nil
	}
	return authenticators{
		token: func(ctx context.Context, token string) (wsgate.Identity, error) {
			return ask(ctx, backend.ConnectRequest{Token: token})
		},
		handshake: func(ctx context.Context, r *http.Request) (wsgate.Identity, error) {
			token := wsgate.HandshakeToken(r)
			if token == "" && queryToken {
				token = r.URL.Query().Get("token")
			}
			req := backend.NewConnectRequest(r, forward, token)
			if req.Empty() {
				return wsgate.Identity{}, wsgate.ErrNoCredentials
			}
			return ask(ctx, req)
		},
	}
}

// hookError maps an error of backend.Client.Connect to Config.Authenticate's:
// 401 refuses, 403 forbids (ErrAuthForbidden), anything else is
// ErrAuthUnavailable. A refusal's message is the hook's.
func hookError(err error) error {
	var be *backend.Error
	msg := "refused by the backend"
	if errors.As(err, &be) {
		msg = strings.TrimPrefix(be.Message, "backend: ")
	}
	switch {
	case errors.Is(err, backend.ErrUnauthorized):
		return errors.New(msg)
	case errors.Is(err, backend.ErrForbidden):
		return fmt.Errorf("%w: %s", wsgate.ErrAuthForbidden, msg)
	}
	return fmt.Errorf("%w: %w", wsgate.ErrAuthUnavailable, err)
}
