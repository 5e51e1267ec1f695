package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bounds of the JWKS cache.
const (
	jwksMinAge     = time.Minute    // a max-age below this is raised to it
	jwksMaxAge     = 24 * time.Hour // a max-age above this is lowered to it
	jwksDefaultAge = time.Hour      // without max-age
	jwksMinGap     = 10 * time.Second
	jwksMaxBody    = 1 << 20 // bytes of a JWKS read at most
)

// keyID names a key: the issuer its set was fetched for and its "kid".
type keyID struct{ issuer, kid string }

// jwk is one usable key of a set.
type jwk struct {
	key any    // *rsa.PublicKey or *ecdsa.PublicKey
	alg string // the key's "alg", "" when it names none
}

// errUnknownKey is returned for a kid the set does not hold.
var errUnknownKey = errors.New("unknown kid")

// jwks fetches and caches one JWK Set. Lock order: fetchMu, then mu.
type jwks struct {
	url, issuer string
	client      *http.Client
	timeout     time.Duration
	now         func() time.Time
	minGap      time.Duration // least time between two fetches

	fetchMu sync.Mutex // held while fetching: one fetch at a time

	mu      sync.Mutex
	keys    map[keyID]jwk // guarded by mu
	expires time.Time     // when the set must be fetched again; guarded by mu
	tried   time.Time     // when the last fetch began; guarded by mu
	lastErr error         // the last fetch's failure, nil after a success; guarded by mu
}

func newJWKS(o Options) *jwks {
	c := o.Client
	if c == nil {
		c = &http.Client{}
	}
	return &jwks{url: o.JWKSURL, issuer: o.Issuer, client: c, timeout: o.FetchTimeout, now: o.Now, minGap: jwksMinGap}
}

// key returns the key named kid. A kid the cache does not hold, or a set
// past its age, has the set fetched again unless it was fetched (or
// tried) within minGap; a key of a stale set is still used when the fetch
// fails.
func (j *jwks) key(ctx context.Context, kid string) (jwk, error) {
	id := keyID{j.issuer, kid}
	j.mu.Lock()
	k, ok := j.keys[id]
	fresh := j.now().Before(j.expires)
	j.mu.Unlock()
	if ok && fresh {
		return k, nil
	}
	err := j.refresh(ctx)
	j.mu.Lock()
	k2, ok2 := j.keys[id]
	j.mu.Unlock()
	switch {
	case ok2:
		return k2, nil
	case ok && err != nil:
		return k, nil // stale, and the set could not be fetched again
	case err != nil:
		return jwk{}, err
	}
	return jwk{}, fmt.Errorf("%w %q", errUnknownKey, kid)
}

// refresh fetches the set unless a fetch began within minGap; then it
// returns that fetch's failure, if any, wrapped in ErrUnavailable.
func (j *jwks) refresh(ctx context.Context) error {
	j.fetchMu.Lock()
	defer j.fetchMu.Unlock()
	now := j.now()
	j.mu.Lock()
	if !j.tried.IsZero() && now.Sub(j.tried) < j.minGap {
		err := j.lastErr
		j.mu.Unlock()
		return err
	}
	j.tried = now
	j.mu.Unlock()

	keys, age, err := j.fetch(ctx)
	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil {
		j.lastErr = fmt.Errorf("%w: JWKS %s: %w", ErrUnavailable, j.url, err)
		return j.lastErr
	}
	j.keys, j.expires, j.lastErr = keys, now.Add(age), nil
	return nil
}

// fetch reads the set and how long it may be kept.
func (j *jwks) fetch(ctx context.Context) (map[keyID]jwk, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, j.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := j.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, jwksMaxBody+1))
	if err != nil {
		return nil, 0, err
	}
	if len(body) > jwksMaxBody {
		return nil, 0, fmt.Errorf("larger than %d bytes", jwksMaxBody)
	}
	keys, err := parseJWKS(body, j.issuer)
	if err != nil {
		return nil, 0, err
	}
	return keys, maxAge(resp.Header.Get("Cache-Control")), nil
}

// maxAge is how long a set served with the Cache-Control value cc is
// kept: its max-age within [jwksMinAge, jwksMaxAge], jwksDefaultAge
// without one, jwksMinAge with no-store or no-cache.
func maxAge(cc string) time.Duration {
	age := jwksDefaultAge
	for _, d := range strings.Split(cc, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return jwksMinAge
		case "max-age":
			if n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64); err == nil && n >= 0 {
				age = time.Duration(min(n, int64(jwksMaxAge/time.Second))) * time.Second
			}
		}
	}
	return min(max(age, jwksMinAge), jwksMaxAge)
}

// parseJWKS reads a JWK Set (RFC 7517, section 5), keeping the RSA and EC
// signing keys that have a kid, under issuer. Keys it cannot use are
// skipped; a set with no usable key is an error.
func parseJWKS(b []byte, issuer string) (map[keyID]jwk, error) {
	var set struct {
		Keys []struct {
			Kty, Kid, Alg, Use string
			N, E, Crv, X, Y    string
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("not a JWK Set: %w", err)
	}
	keys := make(map[keyID]jwk, len(set.Keys))
	for _, k := range set.Keys {
		if k.Kid == "" || k.Use != "" && k.Use != "sig" {
			continue
		}
		var key any
		switch k.Kty {
		case "RSA":
			if rk := rsaKey(k.N, k.E); rk != nil { // not a nil *rsa.PublicKey in key
				key = rk
			}
		case "EC":
			if ek := ecKey(k.Crv, k.X, k.Y); ek != nil {
				key = ek
			}
		}
		if key == nil || checkKey(key) != nil || k.Alg != "" && !accepts(key, k.Alg) {
			continue
		}
		keys[keyID{issuer, k.Kid}] = jwk{key: key, alg: k.Alg}
	}
	if len(keys) == 0 {
		return nil, errors.New("no usable key (RSA or EC, for signing, with a kid)")
	}
	return keys, nil
}

// rsaKey decodes an RSA JWK's modulus and exponent, or returns nil.
func rsaKey(n, e string) *rsa.PublicKey {
	nb, err1 := base64.RawURLEncoding.DecodeString(n)
	eb, err2 := base64.RawURLEncoding.DecodeString(e)
	if err1 != nil || err2 != nil || len(eb) == 0 || len(eb) > 4 {
		return nil
	}
	exp := int(new(big.Int).SetBytes(eb).Int64())
	if exp < 3 || exp%2 == 0 {
		return nil
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: exp}
}

// ecKey decodes an EC JWK's point, or returns nil when it is not a point
// of the named curve.
func ecKey(crv, x, y string) *ecdsa.PublicKey {
	var c elliptic.Curve
	switch crv {
	case "P-256":
		c = elliptic.P256()
	case "P-384":
		c = elliptic.P384()
	case "P-521":
		c = elliptic.P521()
	default:
		return nil
	}
	size := (c.Params().BitSize + 7) / 8
	xb, err1 := base64.RawURLEncoding.DecodeString(x)
	yb, err2 := base64.RawURLEncoding.DecodeString(y)
	if err1 != nil || err2 != nil || len(xb) != size || len(yb) != size {
		return nil
	}
	point := append(append([]byte{4}, xb...), yb...)
	k, err := ecdsa.ParseUncompressedPublicKey(c, point)
	if err != nil {
		return nil
	}
	return k
}
