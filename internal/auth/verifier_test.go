package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// now is the tests' fixed clock.
var now = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

var secret = []byte("0123456789abcdef0123456789abcdef")

// testKeys are made once per test binary: an RSA key takes a while.
var testKeys = sync.OnceValue(func() (k struct {
	rsa   *rsa.PrivateKey
	ec    *ecdsa.PrivateKey
	ec384 *ecdsa.PrivateKey
}) {
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
	if k.ec384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader); err != nil {
		panic(err)
	}
	return k
})

// claims returns valid claims for user "alice", expiring in an hour.
func claims(edit ...func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{
		"sub": "alice",
		"iss": "https://issuer.example",
		"aud": "wsgate",
		"iat": now.Add(-time.Minute).Unix(),
		"nbf": now.Add(-time.Minute).Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
	for _, e := range edit {
		e(c)
	}
	return c
}

func sign(t testing.TB, m jwt.SigningMethod, key any, c jwt.MapClaims, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pemOf(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestVerify(t *testing.T) {
	t.Parallel()
	k := testKeys()
	hmacV := mustNew(t, Options{Secret: secret, Issuer: "https://issuer.example", Audience: "wsgate", Now: clock})
	rsaPub, err := ParsePublicKey(pemOf(t, &k.rsa.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	rsaV := mustNew(t, Options{PublicKey: rsaPub, Now: clock})
	ecPub, err := ParsePublicKey(pemOf(t, &k.ec.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	ecV := mustNew(t, Options{PublicKey: ecPub, Now: clock})
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims()).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	// HS/RS confusion: the RSA public key's PEM used as an HMAC secret.
	confused := sign(t, jwt.SigningMethodHS256, pemOf(t, &k.rsa.PublicKey), claims(), "")

	tests := []struct {
		name  string
		v     *Verifier
		token string
		want  string // "" for valid; else a piece of the error
	}{
		{"valid HS256", hmacV, sign(t, jwt.SigningMethodHS256, secret, claims(), ""), ""},
		{"valid HS512", hmacV, sign(t, jwt.SigningMethodHS512, secret, claims(), ""), ""},
		{"valid RS256", rsaV, sign(t, jwt.SigningMethodRS256, k.rsa, claims(), ""), ""},
		{"valid PS384", rsaV, sign(t, jwt.SigningMethodPS384, k.rsa, claims(), ""), ""},
		{"valid ES256", ecV, sign(t, jwt.SigningMethodES256, k.ec, claims(), ""), ""},
		{"expired", hmacV, sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }), ""), "token is expired"},
		{"expired within skew", hmacV, sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-10 * time.Second).Unix() }), ""), ""},
		{"not yet valid", hmacV, sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Minute).Unix() }), ""), "token is not valid yet"},
		{"issued in the future", hmacV, sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Minute).Unix() }), ""), "token used before issued"},
		{"no exp", hmacV, sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { delete(c, "exp") }), ""), "missing required claim"},
		{"no sub", hmacV, sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { delete(c, "sub") }), ""), "no sub"},
		{"sub with a newline", hmacV, sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["sub"] = "a\nb" }), ""), "control character"},
		{"wrong signature", hmacV, sign(t, jwt.SigningMethodHS256, []byte("another secret, also 32 bytes lo"), claims(), ""), "signature is invalid"},
		{"wrong RSA key", rsaV, sign(t, jwt.SigningMethodRS256, mustRSA(t), claims(), ""), "signature is invalid"},
		{"alg none", hmacV, none, "signing method none is invalid"},
		{"alg none to a public key", rsaV, none, "signing method none is invalid"},
		{"HS256 signed with the RSA public key", rsaV, confused, "signing method HS256 is invalid"},
		{"RS256 to an HMAC secret", hmacV, sign(t, jwt.SigningMethodRS256, k.rsa, claims(), ""), "signing method RS256 is invalid"},
		{"ES384 to a P-256 key", ecV, sign(t, jwt.SigningMethodES384, k.ec384, claims(), ""), "signing method ES384 is invalid"},
		{"wrong issuer", hmacV, sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }), ""), "invalid issuer"},
		{"no issuer", hmacV, sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { delete(c, "iss") }), ""), "iss claim is required"},
		{"wrong audience", hmacV, sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["aud"] = []string{"other"} }), ""), "invalid audience"},
		{"audience among others", hmacV, sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["aud"] = []string{"other", "wsgate"} }), ""), ""},
		{"missing", hmacV, "", "token is malformed"},
		{"malformed", hmacV, "a.b.c", "token is malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.v.Verify(context.Background(), tt.token)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if got.Subject != "alice" || got.Expires.IsZero() || got.Claims["sub"] != "alice" {
					t.Errorf("Verify = %+v", got)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Verify error = %v, want ErrInvalidToken with %q", err, tt.want)
			}
		})
	}
}

func mustNew(t testing.TB, o Options) *Verifier {
	t.Helper()
	v, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"nothing", Options{}, "exactly one of"},
		{"two", Options{Secret: secret, JWKSURL: "https://x/jwks"}, "exactly one of"},
		{"short secret", Options{Secret: []byte("short")}, "want at least 32"},
		{"small RSA key", Options{PublicKey: &small.PublicKey}, "RSA key of 1024 bits"},
		{"P-224", Options{PublicKey: &p224.PublicKey}, "curve P-224"},
		{"private key", Options{PublicKey: small}, "want an RSA or ECDSA public key"},
		{"negative skew", Options{Secret: secret, Skew: -time.Second}, "clock skew"},
		{"large skew", Options{Secret: secret, Skew: time.Hour}, "clock skew"},
		{"JWKS URL", Options{JWKSURL: "file:///etc/jwks"}, "want an absolute http or https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParsePublicKey(t *testing.T) {
	t.Parallel()
	k := testKeys()
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)})
	priv := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})
	tests := []struct {
		name string
		pem  []byte
		want string
	}{
		{"PKIX RSA", pemOf(t, &k.rsa.PublicKey), ""},
		{"PKCS1 RSA", pkcs1, ""},
		{"PKIX EC", pemOf(t, &k.ec.PublicKey), ""},
		{"not PEM", []byte("hello"), "no PEM block"},
		{"private key", priv, `PEM block "PRIVATE KEY"`},
		{"garbage", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2}}), "unusable key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParsePublicKey(tt.pem)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrKey)) {
				t.Errorf("ParsePublicKey error = %v, want %q", err, tt.want)
			}
		})
	}
}
