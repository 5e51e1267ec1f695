package wsgate

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/internal/envelope"
	"github.com/wsgate/wsgate/ws"
)

// Identity is who a /ws connection authenticated as (Config.Authenticate).
type Identity struct {
	// User names the user (a JWT's "sub"): not empty, without control
	// characters. It is sent to the HTTP backend in the X-Wsgate-User
	// header of the connection's calls.
	User string
	// Expires is when the connection is closed (4008) unless its client
	// has presented a fresh token for the same User by then; the server
	// asks for one before (a {"auth":"refresh"} push). Zero: never.
	Expires time.Time
	// Claims is what the authenticator knows besides (a JWT's claims).
	// It is shared by the connection's calls: read it, never modify it.
	Claims map[string]any
	// Permissions say what the connection may do; nil means
	// Config.Permissions. A fresh token's identity brings its own:
	// they apply to the requests after it (subscriptions made before
	// stay).
	Permissions *Permissions

	grants *grants // Permissions compiled by Server.authenticate
}

// identityKey is the context key of an *Identity.
type identityKey struct{}

// IdentityFromContext returns the identity of the connection a request
// came from: ok is true in the context of a CallFunc or of CanPublish
// when the connection authenticated. It is false for a method registered
// with CacheFor, whose result is shared by every caller and so must not
// depend on who asked.
func IdentityFromContext(ctx context.Context) (id Identity, ok bool) {
	p, _ := ctx.Value(identityKey{}).(*Identity)
	if p == nil { // none, or hidden from a CacheFor method
		return Identity{}, false
	}
	return *p, true
}

// ErrAuthUnavailable is wrapped by an error of Config.Authenticate when the
// token could not be checked for want of something that is not the
// client's fault (a JWKS server that does not answer): the client is told
// to try again later (503 at the handshake, close 1013 after it) instead
// of being told its token is invalid.
var ErrAuthUnavailable = errors.New("wsgate: authentication unavailable")

// Close codes of /ws connections under Config.Authenticate (RFC 6455
// leaves 4000-4999 to applications). The Close frame's reason says more
// for people.
const (
	// CloseAuthRequired: the client sent something other than a token
	// before one was accepted, or a second token before the first was
	// answered.
	CloseAuthRequired ws.StatusCode = 4001
	// CloseTokenInvalid: the token was refused (malformed, bad
	// signature, expired, for another issuer or audience…), or a fresh
	// token names another user than the connection's.
	CloseTokenInvalid ws.StatusCode = 4003
	// CloseTokenExpired: the connection's token expired (Identity.Expires)
	// and no fresh one came in time.
	CloseTokenExpired ws.StatusCode = 4008
	// CloseAuthTimeout: no token came within Config.AuthTimeout of the
	// handshake.
	CloseAuthTimeout ws.StatusCode = 4009
)

// authProtocolPrefix marks a token offered in Sec-WebSocket-Protocol:
// "wsgate.v1, wsgate.auth.<token>". The server never selects it.
const authProtocolPrefix = "wsgate.auth."

// maxRefreshNotice is the longest time before Identity.Expires at which
// the server asks for a fresh token; a short-lived token is asked for
// after two thirds of the time it had left when it was accepted.
const maxRefreshNotice = time.Minute

// handshakeToken returns the token a handshake carries, "" when none: an
// offered subprotocol "wsgate.auth.<token>", or with queryToken the
// "token" query parameter.
func handshakeToken(r *http.Request, queryToken bool) string {
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(h, ",") {
			if tok, ok := strings.CutPrefix(strings.TrimSpace(p), authProtocolPrefix); ok && tok != "" {
				return tok
			}
		}
	}
	if queryToken {
		return r.URL.Query().Get("token")
	}
	return ""
}

// authenticate runs Config.Authenticate on token and checks what it
// returns. ctx is bounded by Config.AuthTimeout.
func (s *Server) authenticate(ctx context.Context, token string) (Identity, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.AuthTimeout)
	defer cancel()
	id, err := s.cfg.Authenticate(ctx, token)
	if err != nil {
		return Identity{}, err
	}
	return s.checkIdentity(id)
}

// handshakeAuth authenticates a /ws handshake (handshakeIdentity). It
// returns nil, true when there is nothing to check (a token may come as
// the first message), and false when it answered the request itself: 401
// with WWW-Authenticate (RFC 6750) for refused credentials, 403 for
// forbidden ones, 503 when they could not be checked.
func (s *Server) handshakeAuth(w http.ResponseWriter, r *http.Request) (*Identity, bool) {
	id, err := s.handshakeIdentity(r)
	switch {
	case errors.Is(err, ErrNoCredentials):
		return nil, true
	case errors.Is(err, ErrAuthUnavailable), errors.Is(err, context.DeadlineExceeded):
		s.log.Warn("credentials not checked at the handshake", "remote", r.RemoteAddr, "err", err)
		refuseHandshake(w, http.StatusServiceUnavailable, "authentication unavailable; try again later")
		return nil, false
	case errors.Is(err, ErrAuthForbidden):
		s.log.Debug("connection forbidden at the handshake", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "forbidden", http.StatusForbidden)
		return nil, false
	case err != nil:
		s.log.Debug("token refused at the handshake", "remote", r.RemoteAddr, "err", err)
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return nil, false
	}
	return &id, true
}

// connAuth is the authentication of one /ws connection. The reader
// (OnMessage, OnAlarm) and the goroutine that checks a token share it:
// id is read without a lock on every message; the rest, and every change
// of id or of the connection's alarm, happen under mu. Lock order: mu,
// then the engine Conn's.
type connAuth struct {
	id atomic.Pointer[Identity] // the accepted identity; nil before

	mu        sync.Mutex
	firstBy   time.Time // the first token must be accepted by then
	refreshAt time.Time // when to ask for a fresh token
	asked     bool      // the refresh push for id went out
	checking  bool      // a token is being checked
}

// newConnAuth starts a connection's authentication: with id when the
// handshake carried a token, else waiting for one until timeout from now.
func newConnAuth(id *Identity, timeout time.Duration) *connAuth {
	a := &connAuth{firstBy: time.Now().Add(timeout)}
	if id != nil {
		a.acceptLocked(id, time.Now())
	}
	return a
}

// acceptLocked makes id the connection's identity at now. a.mu must be
// held (or a not yet shared).
func (a *connAuth) acceptLocked(id *Identity, now time.Time) {
	a.id.Store(id)
	a.asked = false
	if !id.Expires.IsZero() {
		a.refreshAt = id.Expires.Add(-min(maxRefreshNotice, max(id.Expires.Sub(now)/3, 0)))
	}
}

// alarmLocked is when OnAlarm must next look at the connection: the
// first token's deadline, the refresh push, or the expiry; zero for
// never. a.mu must be held.
func (a *connAuth) alarmLocked() time.Time {
	id := a.id.Load()
	switch {
	case id == nil:
		return a.firstBy
	case id.Expires.IsZero():
		return time.Time{}
	case !a.asked:
		return a.refreshAt
	}
	return id.Expires
}

// OnAlarm closes a connection whose first token did not come in time
// (4009) or whose token expired (4008), and asks for a fresh token ahead
// of the expiry.
func (ss *session) OnAlarm(c *engine.Conn) {
	a := ss.auth
	if a == nil {
		return
	}
	now := time.Now()
	var code ws.StatusCode
	var reason string
	var push []byte
	a.mu.Lock()
	id := a.id.Load()
	switch {
	case id == nil && !now.Before(a.firstBy):
		code, reason = CloseAuthTimeout, "no token within "+ss.s.cfg.AuthTimeout.String()
	case id == nil:
	case !id.Expires.IsZero() && !now.Before(id.Expires):
		code, reason = CloseTokenExpired, "token expired"
	case !a.asked && !id.Expires.IsZero() && !now.Before(a.refreshAt):
		a.asked = true
		if ss.s.cfg.Authenticate != nil { // else no token could refresh it
			push = strconv.AppendInt([]byte(`{"auth":"refresh","exp":`), id.Expires.Unix(), 10)
			push = append(push, '}')
		}
	}
	if code == 0 {
		c.SetAlarm(a.alarmLocked())
	}
	a.mu.Unlock()
	if code != 0 {
		c.Close(code, reason)
	} else if push != nil {
		c.WriteMessage(ws.OpText, push)
	}
}

// beforeAuth handles a message that came before a token was accepted:
// only {"auth":"TOKEN"} is taken; anything else closes the connection
// (4001) without being read further.
func (ss *session) beforeAuth(op ws.Opcode, payload []byte) {
	if op == ws.OpText {
		if req, err := envelope.Parse(payload); err == nil && req.Kind == envelope.KindAuth {
			ss.checkToken(req)
			return
		}
	}
	ss.c.Close(CloseAuthRequired, `authentication required: send {"auth":"TOKEN"} first`)
}

// checkToken starts checking the token of an auth request on a goroutine
// of its own (Authenticate may wait on a network), counted among the
// server's calls. One token is checked at a time.
func (ss *session) checkToken(req envelope.Request) {
	a := ss.auth
	if a == nil {
		ss.replyError(req.ID, CodeBadRequest, "this server does not authenticate")
		return
	}
	if ss.s.cfg.Authenticate == nil { // AuthenticateHandshake alone
		ss.replyError(req.ID, CodeBadRequest, "this server takes no token messages: reconnect")
		return
	}
	a.mu.Lock()
	busy := a.checking
	a.checking = true
	a.mu.Unlock()
	if busy {
		ss.c.Close(CloseAuthRequired, "a token is being checked already: wait for its answer")
		return
	}
	if !ss.s.startCall() {
		a.mu.Lock()
		a.checking = false
		a.mu.Unlock()
		ss.replyError(req.ID, CodeUnavailable, ss.s.refusal())
		return
	}
	go ss.runCheckToken(bytes.Clone(req.ID), req.Token)
}

// runCheckToken checks token and either accepts it, answering
// {"id":…,"auth":{"user":"…","exp":N}}, or closes the connection: 4003
// for a refused token or one naming another user than the connection's,
// 1013 when it could not be checked.
func (ss *session) runCheckToken(reqID []byte, token string) {
	defer ss.s.calls.Done()
	a := ss.auth
	ctx, lease := ss.requestContext()
	id, err := ss.s.authenticate(ctx, token)
	lease.Release()
	var code ws.StatusCode
	var reason string
	a.mu.Lock()
	a.checking = false
	prev := a.id.Load()
	switch {
	case errors.Is(err, ErrAuthUnavailable), errors.Is(err, context.DeadlineExceeded):
		code, reason = ws.StatusTryAgainLater, "authentication unavailable; try again later"
	case err != nil:
		code, reason = CloseTokenInvalid, "invalid token: "+errorText(err)
	case prev != nil && prev.User != id.User:
		code, reason = CloseTokenInvalid, "the new token is for another user"
	default:
		a.acceptLocked(&id, time.Now())
		ss.c.SetAlarm(a.alarmLocked())
	}
	a.mu.Unlock()
	if code != 0 {
		if code == ws.StatusTryAgainLater {
			ss.s.log.Warn("token not checked", "remote", ss.c.RemoteAddr(), "err", err)
		}
		ss.c.Close(code, reason)
		return
	}
	ss.c.WriteMessage(ws.OpText, appendAuthReply(nil, reqID, &id))
}

// errorText is err's message without the "wsgate: " and "auth: " prefixes
// a client has no use for.
func errorText(err error) string {
	msg := err.Error()
	for _, p := range []string{"wsgate: ", "auth: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return strings.TrimPrefix(msg, "invalid token: ")
}

// appendAuthReply appends {"id":…,"auth":{"user":"…","exp":N}} to b:
// the id only when the request had one, exp (Unix seconds) only when the
// identity expires.
func appendAuthReply(b, reqID []byte, id *Identity) []byte {
	b = append(b, '{')
	if reqID != nil {
		b = append(append(append(b, `"id":`...), reqID...), ',')
	}
	b = envelope.AppendString(append(b, `"auth":{"user":`...), id.User)
	if !id.Expires.IsZero() {
		b = strconv.AppendInt(append(b, `,"exp":`...), id.Expires.Unix(), 10)
	}
	return append(b, "}}"...)
}
