package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwkServer serves a JWK Set the test can change, and counts fetches.
type jwkServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []map[string]string
	cc      string // Cache-Control
	status  int    // 0: 200
	fetches atomic.Int32
}

func newJWKServer(t *testing.T) *jwkServer {
	s := &jwkServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.status != 0 {
			w.WriteHeader(s.status)
			return
		}
		if s.cc != "" {
			w.Header().Set("Cache-Control", s.cc)
		}
		json.NewEncoder(w).Encode(map[string]any{"keys": s.keys})
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwkServer) set(keys ...map[string]string) {
	s.mu.Lock()
	s.keys = keys
	s.mu.Unlock()
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid string, k *rsa.PublicKey) map[string]string {
	return map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(kid string, k *ecdsa.PublicKey) map[string]string {
	b, err := k.Bytes()
	if err != nil {
		panic(err)
	}
	n := (len(b) - 1) / 2
	crv := map[int]string{32: "P-256", 48: "P-384", 66: "P-521"}[n]
	return map[string]string{"kty": "EC", "kid": kid, "crv": crv, "x": b64(b[1 : 1+n]), "y": b64(b[1+n:])}
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestJWKSRotation(t *testing.T) {
	t.Parallel()
	k := testKeys()
	keyB := mustRSA(t)
	srv := newJWKServer(t)
	srv.set(rsaJWK("a", &k.rsa.PublicKey), ecJWK("e", &k.ec.PublicKey))
	clk := &fakeClock{t: now}
	v := mustNew(t, Options{JWKSURL: srv.URL, Issuer: "https://issuer.example", Now: clk.now})
	ctx := context.Background()
	verify := func(key any, m jwt.SigningMethod, kid string) error {
		t.Helper()
		_, err := v.Verify(ctx, sign(t, m, key, claims(), kid))
		return err
	}
	if err := verify(k.rsa, jwt.SigningMethodRS256, "a"); err != nil {
		t.Fatalf("key a: %v", err)
	}
	if err := verify(k.ec, jwt.SigningMethodES256, "e"); err != nil {
		t.Fatalf("key e: %v", err)
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches for two known keys, want 1", n)
	}
	if err := verify(k.rsa, jwt.SigningMethodRS256, ""); err == nil || !strings.Contains(err.Error(), "no kid") {
		t.Errorf("no kid: %v", err)
	}
	if err := verify(k.ec, jwt.SigningMethodES256, "a"); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("ES256 token naming the RSA key: %v", err)
	}

	// The issuer rotates: b replaces a. A token naming b has the set
	// fetched again (the last fetch is more than the gap ago).
	srv.set(rsaJWK("b", &keyB.PublicKey))
	clk.add(jwksMinGap)
	if err := verify(keyB, jwt.SigningMethodRS256, "b"); err != nil {
		t.Fatalf("key b after rotation: %v", err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after rotation, want 2", n)
	}
	// a is gone from the set: refused, with no fetch (within the gap).
	if err := verify(k.rsa, jwt.SigningMethodRS256, "a"); !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), "unknown kid") {
		t.Errorf("key a after rotation: %v", err)
	}
	// A flood of made-up kids makes no fetch within the gap.
	for i := range 100 {
		if err := verify(keyB, jwt.SigningMethodRS256, fmt.Sprint("bogus", i)); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("bogus kid: %v", err)
		}
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Errorf("%d fetches after a flood of unknown kids, want 2", n)
	}
	clk.add(jwksMinGap)
	verify(keyB, jwt.SigningMethodRS256, "bogus")
	if n := srv.fetches.Load(); n != 3 {
		t.Errorf("%d fetches once the gap passed, want 3", n)
	}
}

func TestJWKSAgeAndFailure(t *testing.T) {
	t.Parallel()
	k := testKeys()
	srv := newJWKServer(t)
	srv.set(rsaJWK("a", &k.rsa.PublicKey))
	srv.cc = "public, max-age=120"
	clk := &fakeClock{t: now}
	v := mustNew(t, Options{JWKSURL: srv.URL, Now: clk.now})
	token := func() string {
		return sign(t, jwt.SigningMethodRS256, k.rsa, claims(func(c jwt.MapClaims) { c["exp"] = clk.now().Add(time.Hour).Unix() }), "a")
	}
	ctx := context.Background()
	if _, err := v.Verify(ctx, token()); err != nil {
		t.Fatal(err)
	}
	clk.add(119 * time.Second)
	v.Verify(ctx, token())
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches within max-age, want 1", n)
	}
	// Past max-age the set is fetched again; when that fails the stale
	// key still serves.
	srv.mu.Lock()
	srv.status = http.StatusInternalServerError
	srv.mu.Unlock()
	clk.add(2 * time.Second)
	if _, err := v.Verify(ctx, token()); err != nil {
		t.Errorf("stale key while the JWKS fails: %v", err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches past max-age, want 2", n)
	}
	// A key never seen, while the JWKS fails: unavailable, not invalid.
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, k.rsa, claims(), "new")); !errors.Is(err, ErrUnavailable) {
		t.Errorf("unknown kid while the JWKS fails: %v, want ErrUnavailable", err)
	}
}

func TestJWKSUnreachable(t *testing.T) {
	t.Parallel()
	srv := newJWKServer(t)
	srv.Close()
	v := mustNew(t, Options{JWKSURL: srv.URL, Now: clock})
	_, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, testKeys().rsa, claims(), "a"))
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrInvalidToken) {
		t.Errorf("Verify = %v, want ErrUnavailable", err)
	}
}

func TestMaxAge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cc   string
		want time.Duration
	}{
		{"", jwksDefaultAge},
		{"max-age=600", 10 * time.Minute},
		{"public, max-age=5", jwksMinAge},
		{"max-age=99999999999", jwksMaxAge},
		{"no-store", jwksMinAge},
		{"max-age=x", jwksDefaultAge},
		{`Max-Age="300"`, 5 * time.Minute},
	}
	for _, tt := range tests {
		if got := maxAge(tt.cc); got != tt.want {
			t.Errorf("maxAge(%q) = %v, want %v", tt.cc, got, tt.want)
		}
	}
}

func TestParseJWKS(t *testing.T) {
	t.Parallel()
	k := testKeys()
	good := rsaJWK("a", &k.rsa.PublicKey)
	with := func(edit func(map[string]string)) map[string]string {
		m := map[string]string{}
		for k, v := range good {
			m[k] = v
		}
		edit(m)
		return m
	}
	tests := []struct {
		name string
		key  map[string]string
		ok   bool
	}{
		{"RSA", good, true},
		{"EC", ecJWK("e", &k.ec.PublicKey), true},
		{"EC P-384", ecJWK("e", &k.ec384.PublicKey), true},
		{"no kid", with(func(m map[string]string) { delete(m, "kid") }), false},
		{"for encryption", with(func(m map[string]string) { m["use"] = "enc" }), false},
		{"symmetric", map[string]string{"kty": "oct", "kid": "s", "k": b64(secret)}, false},
		{"alg of another kind", with(func(m map[string]string) { m["alg"] = "HS256" }), false},
		{"alg pinned", with(func(m map[string]string) { m["alg"] = "PS256" }), true},
		{"small RSA", with(func(m map[string]string) { m["n"] = b64([]byte{0xc5, 1, 2, 3}) }), false},
		{"even exponent", with(func(m map[string]string) { m["e"] = b64([]byte{4}) }), false},
		{"EC point off the curve", func() map[string]string {
			m := ecJWK("e", &k.ec.PublicKey)
			m["y"] = m["x"]
			return m
		}(), false},
	}
	for _, tt := range tests {
		b, _ := json.Marshal(map[string]any{"keys": []any{tt.key}})
		keys, err := parseJWKS(b, "iss")
		if got := err == nil && len(keys) == 1; got != tt.ok {
			t.Errorf("%s: parseJWKS = %v, %v; want usable %v", tt.name, keys, err, tt.ok)
		}
	}
}

func FuzzParseJWKS(f *testing.F) {
	k := testKeys()
	for _, keys := range [][]map[string]string{
		{rsaJWK("a", &k.rsa.PublicKey)},
		{ecJWK("e", &k.ec.PublicKey), rsaJWK("b", &k.rsa.PublicKey)},
	} {
		b, _ := json.Marshal(map[string]any{"keys": keys})
		f.Add(b)
	}
	f.Add([]byte(`{"keys":[{"kty":"EC","kid":"x","crv":"P-256","x":"","y":""}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"x","n":"AQAB","e":"AAAAAAE"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := parseJWKS(b, "iss")
		if err != nil {
			return
		}
		for id, key := range keys {
			if id.issuer != "iss" || id.kid == "" || checkKey(key.key) != nil || key.alg != "" && !accepts(key.key, key.alg) {
				t.Fatalf("parseJWKS kept an unusable key %v: %+v", id, key)
			}
		}
	})
}
