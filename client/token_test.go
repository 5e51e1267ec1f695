package client_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/client"
	"github.com/wsgate/wsgate/internal/auth"
	"github.com/wsgate/wsgate/ws"
)

var (
	tokenSecret = []byte("the client tests' secret, 32 bytes or more")
	wrongSecret = []byte("a secret the nodes do not know, 32 bytes+")
)

// mint signs an HS256 token for user, valid for life, with secret.
func mint(t *testing.T, user string, life time.Duration, secret []byte) string {
	t.Helper()
	now := time.Now()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": user, "iss": "test", "aud": "wsgate", "iat": now.Unix(), "exp": now.Add(life).Unix(),
	}).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// authNode starts a node that checks tokens signed with tokenSecret and
// closes a connection that sent none within 300ms.
func authNode(t *testing.T) *node {
	t.Helper()
	v, err := auth.New(auth.Options{Secret: tokenSecret, Issuer: "test", Audience: "wsgate"})
	if err != nil {
		t.Fatal(err)
	}
	return startNodeWith(t, wsgate.Config{
		AuthTimeout: 300 * time.Millisecond,
		Authenticate: func(ctx context.Context, tok string) (wsgate.Identity, error) {
			c, err := v.Verify(ctx, tok)
			if err != nil {
				return wsgate.Identity{}, err
			}
			return wsgate.Identity{User: c.Subject, Expires: c.Expires}, nil
		},
	}, 0)
}

// tokens is an Options.Token that answers its nth call (from 0) with
// next(n), and counts the calls.
type tokens struct {
	calls atomic.Int32
	next  func(n int) (string, error)
}

func (k *tokens) token(context.Context) (string, error) {
	return k.next(int(k.calls.Add(1) - 1))
}

// closedWith reports whether the recorder saw the connection end with code.
func (r *recorder) closedWith(code ws.StatusCode) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.states {
		var ce *ws.CloseError
		if e.State == client.StateDisconnected && errors.As(e.Err, &ce) && ce.Code == code {
			return true
		}
	}
	return false
}

func TestTokenConnects(t *testing.T) {
	t.Parallel()
	n := authNode(t)
	r := newRecorder()
	k := &tokens{next: func(int) (string, error) { return mint(t, "alice", time.Hour, tokenSecret), nil }}
	opts := fast(r)
	opts.Token = k.token
	c := dial(t, []string{n.url}, opts)
	if _, err := c.Publish(ctxGuard(t), "news", "hello"); err != nil { // before a token, any message closes (4001)
		t.Fatalf("Publish: %v", err)
	}
	if r.count(client.StateDisconnected) != 0 || k.calls.Load() != 1 {
		t.Fatalf("%d disconnections, %d tokens asked for; want 0 and 1", r.count(client.StateDisconnected), k.calls.Load())
	}
}

// TestTokenRefresh: a token for 3s is refreshed when the node asks, so
// the connection outlives it.
func TestTokenRefresh(t *testing.T) {
	t.Parallel()
	n := authNode(t)
	r := newRecorder()
	k := &tokens{next: func(int) (string, error) { return mint(t, "alice", 3*time.Second, tokenSecret), nil }}
	opts := fast(r)
	opts.Token = k.token
	c := dial(t, []string{n.url}, opts)
	eventually(t, "a refresh", func() bool { return k.calls.Load() >= 2 })
	time.Sleep(3500 * time.Millisecond) // past the first token's exp
	if _, err := c.Publish(ctxGuard(t), "news", "still here"); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if d := r.count(client.StateDisconnected); d != 0 {
		t.Fatalf("%d disconnections, want 0", d)
	}
}

// TestTokenClosed: each way a node ends a connection over its token
// shows as the close code in StateDisconnected, and the client comes
// back with a new token.
func TestTokenClosed(t *testing.T) {
	t.Parallel()
	errNoToken := errors.New("no token today")
	tests := []struct {
		name string
		next func(t *testing.T, n int) (string, error) // nil: no Token
		want ws.StatusCode
	}{
		{"refresh refused", func(t *testing.T, n int) (string, error) {
			switch n {
			case 0:
				return mint(t, "alice", 3*time.Second, tokenSecret), nil
			case 1:
				return mint(t, "alice", time.Hour, wrongSecret), nil
			}
			return mint(t, "alice", time.Hour, tokenSecret), nil
		}, wsgate.CloseTokenInvalid},
		{"refresh for another user", func(t *testing.T, n int) (string, error) {
			if n == 0 {
				return mint(t, "alice", 3*time.Second, tokenSecret), nil
			}
			return mint(t, "mallory", time.Hour, tokenSecret), nil
		}, wsgate.CloseTokenInvalid},
		{"no token at the refresh", func(t *testing.T, n int) (string, error) {
			switch n {
			case 0:
				return mint(t, "alice", 2*time.Second, tokenSecret), nil
			case 1:
				return "", errNoToken
			}
			return mint(t, "alice", time.Hour, tokenSecret), nil
		}, wsgate.CloseTokenExpired},
		{"no token at all", nil, wsgate.CloseAuthTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := authNode(t)
			r := newRecorder()
			opts := fast(r)
			if tt.next != nil {
				k := &tokens{next: func(n int) (string, error) { return tt.next(t, n) }}
				opts.Token = k.token
			}
			dial(t, []string{n.url}, opts)
			r.wait(t, "the close code "+tt.want.String(), func() bool { return r.closedWith(tt.want) })
			if tt.next != nil {
				r.wait(t, "a connection with a new token", func() bool { return r.count(client.StateConnected) >= 2 })
			}
		})
	}
}

// TestTokenRefusedAtHandshake: a refused token fails the handshake (401)
// and a failing Token fails the attempt, each with its cause.
func TestTokenRefusedAtHandshake(t *testing.T) {
	t.Parallel()
	n := authNode(t)
	opts := fast(newRecorder())
	opts.Token = func(context.Context) (string, error) { return mint(t, "alice", time.Hour, wrongSecret), nil }
	_, err := client.Dial(ctxGuard(t), []string{n.url}, opts)
	var he *ws.HandshakeError
	if !errors.As(err, &he) || he.Status != 401 {
		t.Fatalf("Dial with a refused token: %v, want a 401 HandshakeError", err)
	}
	errNoToken := errors.New("no token today")
	opts.Token = func(context.Context) (string, error) { return "", errNoToken }
	if _, err := client.Dial(ctxGuard(t), []string{n.url}, opts); !errors.Is(err, errNoToken) || !errors.Is(err, client.ErrNoNode) {
		t.Fatalf("Dial when Token fails: %v, want ErrNoNode and the Token's error", err)
	}
}
