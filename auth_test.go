package wsgate_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/internal/auth"
	"github.com/wsgate/wsgate/ws"
)

// testRSAKey is made once per test binary: an RSA key takes a while.
var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

var testSecret = []byte("a test secret of at least 32 bytes, for HS256")

// signed signs claims for user sub, valid for life, with testSecret.
func signed(t testing.TB, sub string, life time.Duration, edit ...func(jwt.MapClaims)) string {
	t.Helper()
	now := time.Now()
	c := jwt.MapClaims{"sub": sub, "iss": "test", "aud": "wsgate", "iat": now.Unix(), "exp": now.Add(life).Unix()}
	for _, e := range edit {
		e(c)
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// jwtAuth is Config.Authenticate over an auth.Verifier of testSecret,
// issuer "test" and audience "wsgate". Expires is the token's exp, with
// no skew added, so that tests need not wait for it.
func jwtAuth(t testing.TB) func(context.Context, string) (wsgate.Identity, error) {
	v, err := auth.New(auth.Options{Secret: testSecret, Issuer: "test", Audience: "wsgate", Skew: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return func(ctx context.Context, tok string) (wsgate.Identity, error) {
		c, err := v.Verify(ctx, tok)
		if err != nil {
			return wsgate.Identity{}, err
		}
		return wsgate.Identity{User: c.Subject, Expires: c.Expires, Claims: c.Claims}, nil
	}
}

// authServer starts a server authenticating with jwtAuth, where "whoami"
// answers the caller's user.
func authServer(t *testing.T, eng wsgate.EngineKind, edit ...func(*wsgate.Config)) (*wsgate.Server, string) {
	t.Helper()
	// A short CloseTimeout makes the epoll sweep, which rings alarms,
	// 100 ms rather than 1 s.
	cfg := wsgate.Config{Engine: eng, Authenticate: jwtAuth(t), AuthTimeout: 500 * time.Millisecond, CloseTimeout: 400 * time.Millisecond}
	for _, e := range edit {
		e(&cfg)
	}
	srv, url := startServer(t, cfg)
	srv.Handle("whoami", func(ctx context.Context, _ json.RawMessage) (any, error) {
		id, ok := wsgate.IdentityFromContext(ctx)
		if !ok {
			return nil, errors.New("no identity")
		}
		return id.User, nil
	})
	return srv, url + "/ws"
}

// dialToken opens /ws offering tok as a subprotocol beside wsgate.v1.
func dialToken(url, tok string) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{Subprotocols: []string{"wsgate.v1", "wsgate.auth." + tok}}
	return d.Dial(url, nil)
}

// authReply is the server's answer to an accepted token, or its refresh
// push.
type authReply struct {
	ID   json.RawMessage `json:"id"`
	Auth json.RawMessage `json:"auth"`
	Exp  int64           `json:"exp"`
}

func readAuth(t *testing.T, c *websocket.Conn, within time.Duration) authReply {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(within))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var r authReply
	if err := json.Unmarshal(b, &r); err != nil || r.Auth == nil {
		t.Fatalf("got %s, want an auth message", b)
	}
	return r
}

// wantUser checks that an auth reply accepted user.
func wantUser(t *testing.T, r authReply, user string) {
	t.Helper()
	var a struct {
		User string `json:"user"`
		Exp  int64  `json:"exp"`
	}
	if err := json.Unmarshal(r.Auth, &a); err != nil || a.User != user || a.Exp == 0 {
		t.Fatalf("auth reply %s, want user %q and exp", r.Auth, user)
	}
}

func whoami(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	r := request(t, c, `{"id":1,"call":"whoami"}`)
	var u string
	if r.Error != nil || json.Unmarshal(r.Result, &u) != nil {
		t.Fatalf("whoami: %+v", r)
	}
	return u
}

// badTokens are tokens every way of presenting them must refuse.
func badTokens(t *testing.T) []struct{ name, token string } {
	rsaKey := testRSAKey()
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "alice", "iss": "test", "aud": "wsgate", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "alice", "iss": "test", "aud": "wsgate", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	other, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice", "iss": "test", "aud": "wsgate", "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte("another secret, 32 bytes or more!"))
	if err != nil {
		t.Fatal(err)
	}
	return []struct{ name, token string }{
		{"expired", signed(t, "alice", -time.Minute)},
		{"not yet valid", signed(t, "alice", time.Hour, func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() })},
		{"wrong signature", other},
		{"alg none", none},
		{"RS256 to an HMAC secret", rs},
		{"wrong issuer", signed(t, "alice", time.Hour, func(c jwt.MapClaims) { c["iss"] = "evil" })},
		{"wrong audience", signed(t, "alice", time.Hour, func(c jwt.MapClaims) { c["aud"] = "other" })},
		{"no exp", signed(t, "alice", time.Hour, func(c jwt.MapClaims) { delete(c, "exp") })},
		{"garbage", "not.a.token"},
	}
}

func TestAuthHandshake(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, url := authServer(t, eng)
		c, resp, err := dialToken(url, signed(t, "alice", time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if p := resp.Header.Get("Sec-WebSocket-Protocol"); p != "wsgate.v1" {
			t.Errorf("selected subprotocol %q, want wsgate.v1 (never the token)", p)
		}
		wantUser(t, readAuth(t, c, 5*time.Second), "alice")
		if u := whoami(t, c); u != "alice" {
			t.Errorf("whoami = %q", u)
		}
		for _, bt := range badTokens(t) {
			c, resp, err := dialToken(url, bt.token)
			if err == nil {
				c.Close()
				t.Errorf("%s: handshake succeeded", bt.name)
				continue
			}
			if resp == nil || resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
				t.Errorf("%s: %v %+v, want 401 with WWW-Authenticate", bt.name, err, resp)
			}
		}
	})
}

func TestAuthFirstMessage(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, url := authServer(t, eng)
		c := dial(t, url)
		send(t, c, `{"id":"a","auth":"`+signed(t, "alice", time.Hour)+`"}`)
		r := readAuth(t, c, 5*time.Second)
		wantUser(t, r, "alice")
		if string(r.ID) != `"a"` {
			t.Errorf("auth reply id %s, want \"a\"", r.ID)
		}
		if u := whoami(t, c); u != "alice" {
			t.Errorf("whoami = %q", u)
		}
		for _, bt := range badTokens(t) {
			c := dial(t, url)
			send(t, c, `{"auth":"`+bt.token+`"}`)
			if code := closeCode(t, c); code != int(wsgate.CloseTokenInvalid) {
				t.Errorf("%s: closed with %d, want %d", bt.name, code, wsgate.CloseTokenInvalid)
			}
		}
	})
}

func TestAuthRequired(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, url := authServer(t, eng)
		tests := []struct {
			name string
			send func(*websocket.Conn) error
			want ws.StatusCode
		}{
			{"call first", func(c *websocket.Conn) error {
				return c.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"call":"whoami"}`))
			}, wsgate.CloseAuthRequired},
			{"not JSON", func(c *websocket.Conn) error { return c.WriteMessage(websocket.TextMessage, []byte(`hi`)) }, wsgate.CloseAuthRequired},
			{"binary", func(c *websocket.Conn) error { return c.WriteMessage(websocket.BinaryMessage, []byte(`{}`)) }, wsgate.CloseAuthRequired},
			{"nothing", func(*websocket.Conn) error { return nil }, wsgate.CloseAuthTimeout},
		}
		for _, tt := range tests {
			start := time.Now() // before the handshake, where the server's clock starts
			c := dial(t, url)
			if err := tt.send(c); err != nil {
				t.Fatal(err)
			}
			if code := closeCode(t, c); code != int(tt.want) {
				t.Errorf("%s: closed with %d, want %d", tt.name, code, tt.want)
			}
			if took := time.Since(start); tt.want == wsgate.CloseAuthTimeout && took < 500*time.Millisecond {
				t.Errorf("%s: closed after %v, before AuthTimeout", tt.name, took)
			}
		}
	})
}

func TestAuthQueryToken(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, off := authServer(t, eng)
		_, on := authServer(t, eng, func(c *wsgate.Config) { c.AuthQueryToken = true })
		q := "?token=" + signed(t, "alice", time.Hour)
		// Off: the query is ignored, the connection waits for a token.
		c := dial(t, off+q)
		send(t, c, `{"id":1,"call":"whoami"}`)
		if code := closeCode(t, c); code != int(wsgate.CloseAuthRequired) {
			t.Errorf("query token while off: closed with %d, want %d", code, wsgate.CloseAuthRequired)
		}
		c = dial(t, on+q)
		wantUser(t, readAuth(t, c, 5*time.Second), "alice")
		if _, resp, err := websocket.DefaultDialer.Dial(on+"?token=x.y.z", nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("bad query token: %v, %+v; want 401", err, resp)
		}
	})
}

func TestAuthRefresh(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, url := authServer(t, eng)
		refreshed := func(t *testing.T, fresh string) *websocket.Conn {
			t.Helper()
			c, _, err := dialToken(url, signed(t, "alice", 4*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			readAuth(t, c, 5*time.Second)
			r := readAuth(t, c, 5*time.Second)
			if string(r.Auth) != `"refresh"` || r.Exp == 0 {
				t.Fatalf("got auth %s exp %d, want a refresh push", r.Auth, r.Exp)
			}
			if time.Until(time.Unix(r.Exp, 0)) < -time.Second {
				t.Fatalf("refresh asked after the expiry")
			}
			if fresh != "" {
				send(t, c, `{"auth":"`+fresh+`"}`)
			}
			return c
		}
		t.Run("in time", func(t *testing.T) {
			c := refreshed(t, signed(t, "alice", time.Hour))
			wantUser(t, readAuth(t, c, 5*time.Second), "alice")
			time.Sleep(3 * time.Second) // past the first token's exp
			if u := whoami(t, c); u != "alice" {
				t.Errorf("whoami after the refresh = %q", u)
			}
		})
		t.Run("not refreshed", func(t *testing.T) {
			c := refreshed(t, "")
			if code := closeCode(t, c); code != int(wsgate.CloseTokenExpired) {
				t.Errorf("closed with %d, want %d", code, wsgate.CloseTokenExpired)
			}
		})
		t.Run("another user", func(t *testing.T) {
			c := refreshed(t, signed(t, "mallory", time.Hour))
			if code := closeCode(t, c); code != int(wsgate.CloseTokenInvalid) {
				t.Errorf("closed with %d, want %d", code, wsgate.CloseTokenInvalid)
			}
		})
		t.Run("expired token", func(t *testing.T) {
			c := refreshed(t, signed(t, "alice", -time.Minute))
			if code := closeCode(t, c); code != int(wsgate.CloseTokenInvalid) {
				t.Errorf("closed with %d, want %d", code, wsgate.CloseTokenInvalid)
			}
		})
	})
}

func TestAuthUnavailable(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, url := authServer(t, eng, func(c *wsgate.Config) {
			c.Authenticate = func(context.Context, string) (wsgate.Identity, error) {
				return wsgate.Identity{}, errors.Join(wsgate.ErrAuthUnavailable, errors.New("JWKS down"))
			}
		})
		if _, resp, err := dialToken(url, "x"); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("handshake: %v %+v, want 503", err, resp)
		}
		c := dial(t, url)
		send(t, c, `{"auth":"x"}`)
		if code := closeCode(t, c); code != 1013 {
			t.Errorf("closed with %d, want 1013", code)
		}
	})
}

// TestAuthOneTokenAtATime sends a second token while the first is being
// checked.
func TestAuthOneTokenAtATime(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		release := make(chan struct{})
		var once sync.Once
		_, url := authServer(t, eng, func(c *wsgate.Config) {
			c.AuthTimeout = 5 * time.Second
			c.Authenticate = func(ctx context.Context, _ string) (wsgate.Identity, error) {
				select {
				case <-release:
				case <-ctx.Done():
				}
				return wsgate.Identity{User: "alice"}, nil
			}
		})
		c := dial(t, url)
		send(t, c, `{"auth":"one"}`)
		send(t, c, `{"auth":"two"}`)
		if code := closeCode(t, c); code != int(wsgate.CloseAuthRequired) {
			t.Errorf("closed with %d, want %d", code, wsgate.CloseAuthRequired)
		}
		once.Do(func() { close(release) })
	})
}

func TestAuthOff(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, wsgate.Config{})
	c := dial(t, url+"/ws")
	if r := request(t, c, `{"id":1,"auth":"x"}`); r.Error == nil || r.Error.Code != "bad_request" {
		t.Errorf("auth while off: %+v, want bad_request", r)
	}
}

// TestIdentityReachesBackendAndCanPublish checks that the user is sent to
// the HTTP backend and seen by CanPublish.
func TestIdentityReachesBackendAndCanPublish(t *testing.T) {
	t.Parallel()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(r.Header.Get("X-Wsgate-User"))
	}))
	t.Cleanup(backend.Close)
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, url := authServer(t, eng, func(c *wsgate.Config) {
			c.Backend = backend.URL
			c.CanPublish = func(ctx context.Context, ch string) error {
				if id, ok := wsgate.IdentityFromContext(ctx); !ok || !strings.HasPrefix(ch, id.User+".") {
					return wsgate.Errorf(wsgate.CodeForbidden, "not yours")
				}
				return nil
			}
		})
		c, _, err := dialToken(url, signed(t, "alice", time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		readAuth(t, c, 5*time.Second)
		if r := request(t, c, `{"id":1,"call":"user.get"}`); string(r.Result) != `"alice"` {
			t.Errorf("backend saw %s (%+v), want \"alice\"", r.Result, r.Error)
		}
		if r := request(t, c, `{"id":2,"pub":"alice.inbox","data":1}`); r.Error != nil {
			t.Errorf("pub on alice.inbox: %+v", r.Error)
		}
		if r := request(t, c, `{"id":3,"pub":"bob.inbox","data":1}`); r.Error == nil || r.Error.Code != "forbidden" {
			t.Errorf("pub on bob.inbox: %+v, want forbidden", r)
		}
	})
}
