package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Errors Verify wraps; see the package documentation.
var (
	// ErrInvalidToken: the token is malformed, badly signed, expired,
	// not yet valid, for another issuer or audience, or names no user.
	ErrInvalidToken = errors.New("invalid token")
	// ErrUnavailable: the keys to check the token could not be had (the
	// JWKS server did not answer well); the token may be valid.
	ErrUnavailable = errors.New("token keys unavailable")
)

// Bounds and defaults of Options.
const (
	DefaultSkew         = 30 * time.Second
	MaxSkew             = 5 * time.Minute
	DefaultFetchTimeout = 5 * time.Second
)

// Options configure a Verifier. Exactly one of Secret, PublicKey and
// JWKSURL must be set.
type Options struct {
	// Secret is the HMAC key: tokens signed with HS256, HS384 or HS512.
	// At least 32 bytes.
	Secret []byte
	// PublicKey is an *rsa.PublicKey or *ecdsa.PublicKey (ParsePublicKey
	// reads one from PEM): tokens signed with RS*/PS* or with the ES
	// algorithm of the key's curve.
	PublicKey any
	// JWKSURL is an http or https URL serving a JWK Set (RFC 7517) of RSA
	// and EC public keys, chosen by the token's "kid".
	JWKSURL string
	// Issuer, when set, must equal the token's "iss".
	Issuer string
	// Audience, when set, must be named by the token's "aud".
	Audience string
	// Skew is the clock difference allowed on exp, nbf and iat. Zero means
	// DefaultSkew (30 s); it may not be negative or above MaxSkew.
	Skew time.Duration
	// FetchTimeout bounds one JWKS fetch. Zero means 5 s.
	FetchTimeout time.Duration
	// Client fetches the JWKS. Nil means http.Client's defaults (the
	// fetch is bounded by FetchTimeout all the same).
	Client *http.Client
	// Now is the clock; nil means time.Now. For tests.
	Now func() time.Time
}

// Token is what a valid token says.
type Token struct {
	// Subject is the "sub" claim: the user.
	Subject string
	// Expires is the "exp" claim.
	Expires time.Time
	// Claims holds every claim as encoding/json decodes it (numbers are
	// float64).
	Claims map[string]any
}

// Verifier checks tokens against one key, or one JWKS. It is safe for
// concurrent use.
type Verifier struct {
	parser *jwt.Parser
	skew   time.Duration
	key    any   // Secret ([]byte) or PublicKey; nil with a JWKS
	jwks   *jwks // nil without JWKSURL
}

// New returns a Verifier configured by o.
func New(o Options) (*Verifier, error) {
	n := 0
	for _, set := range []bool{o.Secret != nil, o.PublicKey != nil, o.JWKSURL != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("auth: want exactly one of an HMAC secret, a public key and a JWKS URL")
	}
	if o.Skew == 0 {
		o.Skew = DefaultSkew
	}
	if o.Skew < 0 || o.Skew > MaxSkew {
		return nil, fmt.Errorf("auth: clock skew %v: want 0 to %v", o.Skew, MaxSkew)
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = DefaultFetchTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	v := &Verifier{skew: o.Skew}
	var algs []string
	switch {
	case o.Secret != nil:
		if len(o.Secret) < 32 {
			return nil, fmt.Errorf("%w: HMAC secret of %d bytes: want at least 32", ErrKey, len(o.Secret))
		}
		v.key, algs = o.Secret, hmacAlgs
	case o.PublicKey != nil:
		if err := checkKey(o.PublicKey); err != nil {
			return nil, err
		}
		v.key, algs = o.PublicKey, algsOf(o.PublicKey)
	default:
		u, err := url.Parse(o.JWKSURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("auth: JWKS URL %q: want an absolute http or https URL", o.JWKSURL)
		}
		v.jwks = newJWKS(o)
		algs = append(append([]string(nil), rsaAlgs...), ecAlgs...)
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(algs),
		jwt.WithLeeway(o.Skew),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(o.Now),
	}
	if o.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(o.Issuer))
	}
	if o.Audience != "" {
		opts = append(opts, jwt.WithAudience(o.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// Skew is the clock difference the Verifier allows.
func (v *Verifier) Skew() time.Duration { return v.skew }

// Verify checks token and returns what it says. ctx bounds a JWKS fetch
// the token may need. Errors wrap ErrInvalidToken or ErrUnavailable.
func (v *Verifier) Verify(ctx context.Context, token string) (Token, error) {
	claims := jwt.MapClaims{}
	_, err := v.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		return v.keyFor(ctx, t)
	})
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return Token{}, err
		}
		return Token{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	sub, _ := claims.GetSubject()
	if sub == "" {
		return Token{}, fmt.Errorf("%w: no sub", ErrInvalidToken)
	}
	for i := 0; i < len(sub); i++ {
		if c := sub[i]; c < 0x20 || c == 0x7f {
			return Token{}, fmt.Errorf("%w: sub holds a control character", ErrInvalidToken)
		}
	}
	exp, _ := claims.GetExpirationTime() // present: the parser requires it
	return Token{Subject: sub, Expires: exp.Time, Claims: claims}, nil
}

// errAlg is returned by keyFor when the token's algorithm does not suit
// the key.
var errAlg = errors.New("algorithm not accepted for this key")

// keyFor returns the key that checks t, the one pinned by configuration
// or the JWKS key t's "kid" names, and refuses an algorithm the key does
// not accept.
func (v *Verifier) keyFor(ctx context.Context, t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	if v.jwks == nil {
		if !accepts(v.key, alg) {
			return nil, fmt.Errorf("%s: %w", alg, errAlg)
		}
		return v.key, nil
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errors.New("no kid: a JWKS key must be named")
	}
	k, err := v.jwks.key(ctx, kid)
	if err != nil {
		return nil, err
	}
	if !accepts(k.key, alg) || k.alg != "" && k.alg != alg {
		return nil, fmt.Errorf("%s: %w", alg, errAlg)
	}
	return k.key, nil
}
