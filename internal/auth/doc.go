// Package auth verifies the JSON Web Tokens (RFC 7519) clients present to
// wsgate: signed with an HMAC secret, or with an RSA or ECDSA key given
// as a PEM file or published at a JWKS URL (RFC 7517).
//
// # What a valid token is
//
// A Verifier accepts a token only when all of these hold:
//
//   - Its algorithm is pinned by the key, never chosen by the token: an
//     HMAC secret accepts HS256, HS384 and HS512 only; an RSA key RS256,
//     RS384, RS512, PS256, PS384 and PS512; an ECDSA key the one ES
//     algorithm of its curve (P-256: ES256, P-384: ES384, P-521: ES512).
//     "none" is never accepted, and a token that names an HMAC algorithm
//     is never checked against a public key (nor the other way round).
//     A JWKS key's "alg", when it has one, narrows this further.
//   - Its signature is valid.
//   - It has "exp", and has not expired; "nbf" and "iat", when present,
//     are not in the future. Options.Skew (30 s by default, at most 5 min)
//     is allowed on each of these for the clocks of the issuer and of this
//     node.
//   - "iss" equals Options.Issuer and "aud" names Options.Audience, each
//     when configured.
//   - "sub", the user, is present and holds no control character, so it
//     can be logged and sent in an HTTP header.
//
// # JWKS
//
// A JWKS is fetched when a token needs it, with a time-out, and cached:
// keys are held by issuer and key id together, so a token's "kid" finds
// only a key of the issuer the set was fetched for. The set is fetched
// again when its Cache-Control max-age runs out (held between 1 minute and
// 24 hours; 1 hour without one), and when a token names a key id the
// cache does not hold (a key rotation), at most once every 10 seconds, so a
// flood of tokens with made-up key ids cannot make the node hammer the
// JWKS server. Only RSA and EC keys for signing with a "kid" are taken;
// RSA keys shorter than 2048 bits are refused here as in PEM files.
//
// # Errors
//
// Verify's errors wrap ErrInvalidToken (the client's token is at fault:
// a new token may do) or ErrUnavailable (the JWKS could not be fetched:
// the token may be fine; try again later).
//
// # Concurrency
//
// A Verifier is safe for concurrent use. Verify may wait on the network
// (a JWKS fetch, bounded by Options.FetchTimeout), so it must not run on
// an event loop.
package auth
