package wsgate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgate/wsgate"
)

// cookieAuth is a Config.AuthenticateHandshake that knows the session
// cookie "s": s=alice is alice, s=banned is forbidden, s=down cannot be
// checked, s=slow waits for its context, any other value is refused; the
// handshake's token, if any, is checked with the cookie ("alice+TOKEN").
// Without the cookie it finds no credentials.
func cookieAuth(ctx context.Context, r *http.Request) (wsgate.Identity, error) {
	ck, err := r.Cookie("s")
	if err != nil {
		return wsgate.Identity{}, fmt.Errorf("no session cookie: %w", wsgate.ErrNoCredentials)
	}
	switch ck.Value {
	case "alice":
		user := "alice"
		if tok := wsgate.HandshakeToken(r); tok != "" {
			user += "+" + tok
		}
		return wsgate.Identity{User: user, Claims: map[string]any{"plan": "pro"}}, nil
	case "banned":
		return wsgate.Identity{}, fmt.Errorf("%w: banned", wsgate.ErrAuthForbidden)
	case "down":
		return wsgate.Identity{}, fmt.Errorf("%w: session store down", wsgate.ErrAuthUnavailable)
	case "slow":
		<-ctx.Done()
		return wsgate.Identity{}, ctx.Err()
	case "nobody":
		return wsgate.Identity{User: ""}, nil
	case "carol":
		return wsgate.Identity{User: "carol", Permissions: &wsgate.Permissions{Call: []string{"whoami"}}}, nil
	case "badperm":
		return wsgate.Identity{User: "carol", Permissions: &wsgate.Permissions{Call: []string{"a.>.b"}}}, nil
	}
	return wsgate.Identity{}, errors.New("unknown session")
}

// dialCookie opens url with the session cookie s=value and, when tok is
// not empty, the token as a subprotocol.
func dialCookie(url, value, tok string) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{Subprotocols: []string{"wsgate.v1"}}
	if tok != "" {
		d.Subprotocols = append(d.Subprotocols, "wsgate.auth."+tok)
	}
	h := http.Header{}
	if value != "" {
		h.Set("Cookie", "s="+value)
	}
	return d.Dial(url, h)
}

func TestAuthenticateHandshake(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, url := authServer(t, eng, func(c *wsgate.Config) { c.AuthenticateHandshake = cookieAuth })
		for _, tt := range []struct {
			name, cookie, token string
			user                string // the connection's user, or
			status              int    // the handshake's answer
		}{
			{name: "cookie", cookie: "alice", user: "alice"},
			{name: "cookie and token", cookie: "alice", token: "t1", user: "alice+t1"},
			{name: "token alone goes to Authenticate", token: signed(t, "bob", time.Hour), user: "bob"},
			{name: "bad token alone", token: "x.y.z", status: http.StatusUnauthorized},
			{name: "refused", cookie: "stale", status: http.StatusUnauthorized},
			{name: "forbidden", cookie: "banned", status: http.StatusForbidden},
			{name: "unavailable", cookie: "down", status: http.StatusServiceUnavailable},
			{name: "past AuthTimeout", cookie: "slow", status: http.StatusServiceUnavailable},
			{name: "no user", cookie: "nobody", status: http.StatusUnauthorized},
			{name: "permissions", cookie: "carol", user: "carol"},
			{name: "unreadable permissions", cookie: "badperm", status: http.StatusUnauthorized},
		} {
			c, resp, err := dialCookie(url, tt.cookie, tt.token)
			if tt.status != 0 {
				if err == nil {
					c.Close()
					t.Errorf("%s: handshake succeeded, want %d", tt.name, tt.status)
				} else if resp == nil || resp.StatusCode != tt.status {
					t.Errorf("%s: %v %+v, want %d", tt.name, err, resp, tt.status)
				} else if got := resp.Header.Get("WWW-Authenticate"); (tt.status == http.StatusUnauthorized) != (got != "") {
					t.Errorf("%s: WWW-Authenticate %q", tt.name, got)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			var a struct {
				User string `json:"user"`
			}
			if r := readAuth(t, c, 5*time.Second); json.Unmarshal(r.Auth, &a) != nil || a.User != tt.user {
				t.Errorf("%s: auth %s, want user %s", tt.name, r.Auth, tt.user)
			}
			if u := whoami(t, c); u != tt.user {
				t.Errorf("%s: whoami = %q", tt.name, u)
			}
			// carol may call whoami only; the others, anything.
			r := request(t, c, `{"id":2,"call":"other"}`)
			if forbidden := r.Error != nil && r.Error.Code == "forbidden"; forbidden != (tt.user == "carol") {
				t.Errorf("%s: call other: %+v", tt.name, r)
			}
			c.Close()
		}
	})
}

// TestAuthenticateHandshakeFallback: a handshake without credentials
// waits for a token message, checked by Authenticate, and a connection
// authenticated by its cookie may refresh with a token of the same user.
func TestAuthenticateHandshakeFallback(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, url := authServer(t, eng, func(c *wsgate.Config) { c.AuthenticateHandshake = cookieAuth })
		c := dial(t, url)
		send(t, c, `{"id":1,"call":"whoami"}`)
		if code := closeCode(t, c); code != int(wsgate.CloseAuthRequired) {
			t.Errorf("call before a token: closed with %d, want %d", code, wsgate.CloseAuthRequired)
		}
		c = dial(t, url)
		send(t, c, `{"id":"a","auth":"`+signed(t, "bob", time.Hour)+`"}`)
		wantUser(t, readAuth(t, c, 5*time.Second), "bob")
		if u := whoami(t, c); u != "bob" {
			t.Errorf("whoami = %q", u)
		}

		c, _, err := dialCookie(url, "alice", "")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		readAuth(t, c, 5*time.Second)
		send(t, c, `{"auth":"`+signed(t, "alice", time.Hour)+`"}`)
		wantUser(t, readAuth(t, c, 5*time.Second), "alice")
		send(t, c, `{"auth":"`+signed(t, "mallory", time.Hour)+`"}`)
		if code := closeCode(t, c); code != int(wsgate.CloseTokenInvalid) {
			t.Errorf("token of another user: closed with %d, want %d", code, wsgate.CloseTokenInvalid)
		}
	})
}

// TestAuthenticateHandshakeAlone: without Authenticate, a handshake
// without credentials is refused, and a token message is not taken.
func TestAuthenticateHandshakeAlone(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, url := authServer(t, eng, func(c *wsgate.Config) {
			c.Authenticate = nil
			c.AuthenticateHandshake = cookieAuth
		})
		for _, tok := range []string{"", signed(t, "bob", time.Hour)} {
			if _, resp, err := dialCookie(url, "", tok); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("no cookie, token %q: %v %+v, want 401", tok, err, resp)
			}
		}
		c, _, err := dialCookie(url, "alice", "")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		readAuth(t, c, 5*time.Second)
		if r := request(t, c, `{"id":1,"auth":"x"}`); r.Error == nil || r.Error.Code != "bad_request" {
			t.Errorf("token message: %+v, want bad_request", r)
		}
		if u := whoami(t, c); u != "alice" {
			t.Errorf("whoami = %q", u)
		}
	})
}

// TestAuthenticateHandshakeNotStuck: handshakes whose hook does not
// answer get 503 after AuthTimeout while others are served meanwhile.
func TestAuthenticateHandshakeNotStuck(t *testing.T) {
	t.Parallel()
	_, url := authServer(t, wsgate.EngineAuto, func(c *wsgate.Config) { c.AuthenticateHandshake = cookieAuth })
	const slow = 8
	statuses := make(chan int, slow)
	for range slow {
		go func() {
			_, resp, _ := dialCookie(url, "slow", "")
			if resp == nil {
				statuses <- 0
				return
			}
			statuses <- resp.StatusCode
		}()
	}
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	c, _, err := dialCookie(url, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if took := time.Since(start); took > 300*time.Millisecond {
		t.Errorf("a good handshake took %v behind slow ones", took)
	}
	for range slow {
		if s := <-statuses; s != http.StatusServiceUnavailable {
			t.Errorf("slow hook: status %d, want 503", s)
		}
	}
}

// TestReservedMethods: a client's call of a method starting with '_'
// never reaches the backend nor a handler, whatever its permissions, and
// Handle refuses the name.
func TestReservedMethods(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		var reached atomic.Int32
		backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reached.Add(1)
			w.Header().Set("Cache-Control", "max-age=60")
			w.Write([]byte(`{"user":"root"}`))
		}))
		t.Cleanup(backend.Close)
		srv, url := startServer(t, wsgate.Config{Engine: eng, Backend: backend.URL, Permissions: &wsgate.Permissions{Call: []string{"a_b", "_x"}}})
		c := dial(t, url+"/ws")
		for i, m := range []string{"_connect", "_x", "_", "_connect"} {
			r := request(t, c, fmt.Sprintf(`{"id":%d,"call":%q,"args":{"remote":"1.2.3.4"}}`, i, m))
			if r.Error == nil || r.Error.Code != "not_found" {
				t.Errorf("call %s: %+v, want not_found", m, r)
			}
		}
		if r := request(t, c, `{"id":9,"call":"a_b"}`); r.Error != nil {
			t.Errorf("call a_b: %+v", r.Error)
		}
		if n := reached.Load(); n != 1 {
			t.Errorf("backend reached %d times, want once (a_b)", n)
		}
		defer func() {
			if recover() == nil {
				t.Error("Handle(\"_x\") did not panic")
			}
		}()
		srv.Handle("_x", func(context.Context, json.RawMessage) (any, error) { return nil, nil })
	})
}
