package wsgate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrNoCredentials is wrapped by an error of Config.AuthenticateHandshake
// when the handshake carries nothing to check (no cookie, no token): the
// handshake's token, if any, goes to Config.Authenticate, or else the
// connection waits for a first {"auth":"TOKEN"} message, as without
// AuthenticateHandshake.
var ErrNoCredentials = errors.New("wsgate: no credentials")

// ErrAuthForbidden is wrapped by an error of Config.AuthenticateHandshake
// or Config.Authenticate when the credentials are valid but their holder
// may not connect: 403 at the handshake (other refusals are 401), close
// 4003 after it, as for any refusal.
var ErrAuthForbidden = errors.New("wsgate: forbidden")

// HandshakeToken returns the token a /ws handshake offers as a
// subprotocol beside wsgate.v1 ("wsgate.auth.TOKEN"), "" when none: for
// a Config.AuthenticateHandshake that checks a token together with the
// handshake's other credentials.
func HandshakeToken(r *http.Request) string { return handshakeToken(r, false) }

// reservedMethod reports whether a method name is wsgate's own (it starts
// with '_'): clients cannot call it and Handle refuses it.
func reservedMethod(name string) bool { return strings.HasPrefix(name, "_") }

// checkIdentity checks what an authenticator returned and compiles its
// Permissions.
func (s *Server) checkIdentity(id Identity) (Identity, error) {
	if id.User == "" || strings.ContainsFunc(id.User, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return Identity{}, fmt.Errorf("wsgate: authenticated user %q: want a name without control characters", id.User)
	}
	// Patterns come from whoever issued the identity: one that cannot
	// be read refuses it (trying again would not help), and the
	// operator is told.
	var err error
	if id.grants, err = id.Permissions.compile(); err != nil {
		s.log.Warn("identity refused for its permissions", "user", id.User, "err", err)
		return Identity{}, fmt.Errorf("user %q: %w", id.User, err)
	}
	return id, nil
}

// handshakeIdentity authenticates a /ws handshake: with
// Config.AuthenticateHandshake first, then, when that finds no
// credentials, the handshake's token with Config.Authenticate. The error
// wraps ErrNoCredentials when there is nothing to check: the connection
// then waits for a token message, which only Authenticate can check, so
// without it that error refuses the handshake.
func (s *Server) handshakeIdentity(r *http.Request) (Identity, error) {
	if s.cfg.AuthenticateHandshake != nil {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.AuthTimeout)
		id, err := s.cfg.AuthenticateHandshake(ctx, r)
		cancel()
		switch {
		case err == nil:
			return s.checkIdentity(id)
		case !errors.Is(err, ErrNoCredentials):
			return Identity{}, err
		case s.cfg.Authenticate == nil:
			return Identity{}, errors.New("wsgate: no credentials in the handshake")
		}
	}
	token := handshakeToken(r, s.cfg.AuthQueryToken)
	if token == "" {
		return Identity{}, ErrNoCredentials
	}
	return s.authenticate(r.Context(), token)
}
