package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
)

// minRSABits is the shortest RSA modulus accepted, in bits.
const minRSABits = 2048

// The algorithms each kind of key accepts (RFC 7518, section 3.1).
var (
	hmacAlgs = []string{"HS256", "HS384", "HS512"}
	rsaAlgs  = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	ecAlgs   = []string{"ES256", "ES384", "ES512"}
)

// ErrKey is wrapped by ParsePublicKey for a key that cannot be used.
var ErrKey = errors.New("auth: unusable key")

// ParsePublicKey reads a PEM block holding an RSA or ECDSA public key:
// "PUBLIC KEY" (PKIX, the usual form), "RSA PUBLIC KEY" (PKCS #1) or a
// "CERTIFICATE" whose key it takes. RSA keys shorter than 2048 bits and
// curves other than P-256, P-384 and P-521 are refused.
func ParsePublicKey(pemBytes []byte) (any, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrKey)
	}
	var key any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("%w: PEM block %q: want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE", ErrKey, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	return key, nil
}

// checkKey reports whether key is an RSA key of at least minRSABits or an
// ECDSA key on a curve with a JWS algorithm.
func checkKey(key any) error {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return fmt.Errorf("%w: RSA key of %d bits: want at least %d", ErrKey, k.N.BitLen(), minRSABits)
		}
		return nil
	case *ecdsa.PublicKey:
		if ecAlg(k) == "" {
			return fmt.Errorf("%w: ECDSA curve %s: want P-256, P-384 or P-521", ErrKey, k.Curve.Params().Name)
		}
		return nil
	}
	return fmt.Errorf("%w: %T: want an RSA or ECDSA public key", ErrKey, key)
}

// ecAlg is the one algorithm an ECDSA key accepts, "" for an unknown curve.
func ecAlg(k *ecdsa.PublicKey) string {
	switch k.Curve {
	case elliptic.P256():
		return "ES256"
	case elliptic.P384():
		return "ES384"
	case elliptic.P521():
		return "ES512"
	}
	return ""
}

// algsOf lists the algorithms key accepts: a []byte is an HMAC secret.
func algsOf(key any) []string {
	switch k := key.(type) {
	case []byte:
		return hmacAlgs
	case *rsa.PublicKey:
		return rsaAlgs
	case *ecdsa.PublicKey:
		if a := ecAlg(k); a != "" {
			return []string{a}
		}
	}
	return nil
}

// accepts reports whether key may check a signature made with alg.
func accepts(key any, alg string) bool { return slices.Contains(algsOf(key), alg) }
