package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/internal/auth"
)

// authOptions are the flags of --auth: who may connect to /ws.
type authOptions struct {
	mode       string // none, jwt (backend is reserved)
	secretFile string
	keyFile    string
	jwksURL    string
	issuer     string
	audience   string
	skew       time.Duration
	timeout    time.Duration
	queryToken bool
}

func (o *authOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.mode, "auth", "none", "who may use /ws: none (anyone), or jwt (a JSON Web Token, in the handshake's Sec-WebSocket-Protocol as wsgate.auth.TOKEN or as a first message {\"auth\":\"TOKEN\"}); backend is not yet built")
	fs.StringVar(&o.secretFile, "auth-jwt-secret-file", "", "file holding the HMAC secret of --auth jwt (HS256/384/512; at least 32 bytes; a final newline is dropped)")
	fs.StringVar(&o.keyFile, "auth-jwt-key-file", "", "PEM file of the RSA (RS*/PS*) or ECDSA (ES*) public key of --auth jwt")
	fs.StringVar(&o.jwksURL, "auth-jwks-url", "", "http(s) URL of the JWK Set of --auth jwt, fetched when needed and cached (Cache-Control max-age, 1m to 24h)")
	fs.StringVar(&o.issuer, "auth-issuer", "", "with --auth jwt, the \"iss\" a token must have (empty: any)")
	fs.StringVar(&o.audience, "auth-audience", "", "with --auth jwt, the \"aud\" a token must name (empty: any)")
	fs.DurationVar(&o.skew, "auth-skew", auth.DefaultSkew, "clock difference allowed on a token's exp, nbf and iat (1s to 5m); a connection is closed (4008) at exp plus this unless it sent a fresh token")
	fs.DurationVar(&o.timeout, "auth-timeout", wsgate.DefaultAuthTimeout, "time a client has after the handshake to have its token accepted (4009 after it)")
	fs.BoolVar(&o.queryToken, "auth-query-token", false, "also take the token from /ws?token=TOKEN (URLs end up in access logs: only for clients that can do nothing else)")
}

// check validates the flags without reading any file.
func (o authOptions) check() error {
	switch o.mode {
	case "none":
		if o.secretFile != "" || o.keyFile != "" || o.jwksURL != "" || o.issuer != "" || o.audience != "" || o.queryToken {
			return errors.New("wsgate: --auth-jwt-secret-file, --auth-jwt-key-file, --auth-jwks-url, --auth-issuer, --auth-audience and --auth-query-token need --auth jwt")
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
		return errors.New("wsgate: --auth backend: not yet built; want none or jwt")
	default:
		return fmt.Errorf("wsgate: --auth %q: want none or jwt", o.mode)
	}
	if o.skew < time.Second || o.skew > auth.MaxSkew {
		return fmt.Errorf("wsgate: --auth-skew %v: want 1s to 5m0s", o.skew)
	}
	if o.timeout <= 0 {
		return fmt.Errorf("wsgate: --auth-timeout %v: want more than 0", o.timeout)
	}
	return nil
}

// authenticator returns Config.Authenticate for the flags, nil for
// --auth none. It reads the secret or key file.
func (o authOptions) authenticator() (func(context.Context, string) (wsgate.Identity, error), error) {
	if o.mode != "jwt" {
		return nil, nil
	}
	opts := auth.Options{JWKSURL: o.jwksURL, Issuer: o.issuer, Audience: o.audience, Skew: o.skew}
	switch {
	case o.secretFile != "":
		b, err := os.ReadFile(o.secretFile)
		if err != nil {
			return nil, fmt.Errorf("wsgate: --auth-jwt-secret-file: %w", err)
		}
		opts.Secret = []byte(strings.TrimRight(string(b), "\r\n"))
	case o.keyFile != "":
		b, err := os.ReadFile(o.keyFile)
		if err != nil {
			return nil, fmt.Errorf("wsgate: --auth-jwt-key-file: %w", err)
		}
		if opts.PublicKey, err = auth.ParsePublicKey(b); err != nil {
			return nil, fmt.Errorf("wsgate: --auth-jwt-key-file %q: %w", o.keyFile, err)
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
		return nil, fmt.Errorf("wsgate: %s %q: %w", flagName, value, err)
	}
	return jwtAuthenticator(v), nil
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
