package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/internal/backend"
)

// hookSeen is a request the fake backend's /_connect received.
type hookSeen struct {
	header http.Header
	body   map[string]any
}

// fakeBackend answers /_connect by the credential it finds (the cookie
// s, else the token): "alice" is alice for an hour, "short" alice for 3
// seconds, "nope" 401, "banned" 403, "e500" 500, "slow" nothing until the
// request is cancelled, "garbage" HTML, "nouser" JSON without a user,
// "huge" a body of 100 KB. Any other method answers the caller's
// X-Wsgate-User.
type fakeBackend struct {
	*httptest.Server
	mu    sync.Mutex
	hooks []hookSeen
	calls []string // the paths of other requests
}

func newFakeBackend(t *testing.T) *fakeBackend {
	f := &fakeBackend{}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeBackend) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if r.URL.Path != "/_connect" {
		f.mu.Lock()
		f.calls = append(f.calls, r.URL.Path)
		f.mu.Unlock()
		json.NewEncoder(w).Encode(r.Header.Get(backend.UserHeader))
		return
	}
	var body map[string]any
	json.Unmarshal(b, &body)
	f.mu.Lock()
	f.hooks = append(f.hooks, hookSeen{header: r.Header.Clone(), body: body})
	f.mu.Unlock()
	key, _ := body["token"].(string)
	if c, err := r.Cookie("s"); err == nil {
		key = c.Value
	}
	switch key {
	case "alice", "short":
		life := time.Hour
		if key == "short" {
			life = 3 * time.Second
		}
		io.WriteString(w, `{"user":"alice","expires":`+strconv.FormatInt(time.Now().Add(life).Unix(), 10)+
			`,"permissions":{"subscribe":["chat.>"],"publish":[],"call":["whoami"]},"info":{"plan":"pro"}}`)
	case "nope":
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"session expired"}`)
	case "banned":
		w.WriteHeader(http.StatusForbidden)
	case "e500":
		w.WriteHeader(http.StatusInternalServerError)
	case "slow":
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	case "garbage":
		io.WriteString(w, "<html>hello</html>")
	case "nouser":
		io.WriteString(w, `{"name":"alice"}`)
	case "huge":
		io.WriteString(w, `{"user":"alice","info":{"pad":"`+strings.Repeat("x", 100<<10)+`"}}`)
	default:
		w.WriteHeader(http.StatusUnauthorized)
	}
}

func (f *fakeBackend) seen() ([]hookSeen, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]hookSeen(nil), f.hooks...), append([]string(nil), f.calls...)
}

// dialWith opens url with the cookie s=cookie (when not empty), an
// Authorization, an X-Tenant and an X-Other header, and the token tok
// as a subprotocol (when not empty).
func dialWith(url, cookie, tok string) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{Subprotocols: []string{"wsgate.v1"}, HandshakeTimeout: 5 * time.Second}
	if tok != "" {
		d.Subprotocols = append(d.Subprotocols, "wsgate.auth."+tok)
	}
	h := http.Header{"Authorization": {"Bearer abc"}, "X-Tenant": {"acme"}, "X-Other": {"secret"}}
	if cookie != "" {
		h.Set("Cookie", "s="+cookie)
	}
	return d.Dial(url, h)
}

// wsRead reads the next message of c as a generic JSON object.
func wsRead(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m map[string]any
	if err := c.ReadJSON(&m); err != nil {
		t.Fatalf("read: %v", err)
	}
	return m
}

// authUser returns the user of an auth message, "" for another message.
func authUser(m map[string]any) string {
	a, _ := m["auth"].(map[string]any)
	u, _ := a["user"].(string)
	return u
}

// TestRunWithBackendAuth serves with --auth backend and checks what the
// hook's answers make of handshakes.
func TestRunWithBackendAuth(t *testing.T) {
	t.Parallel()
	be := newFakeBackend(t)
	addr := startRun(t, "--auth", "backend", "--backend", be.URL, "--auth-timeout", "500ms", "--auth-forward-headers", "authorization,X-Tenant")
	url := "ws://" + addr.String() + "/ws"
	for _, tt := range []struct {
		cookie, token string
		status        int // 0: the connection opens as alice
	}{
		{cookie: "alice"},
		{token: "alice"},
		{cookie: "alice", token: "t"},
		{cookie: "nope", status: http.StatusUnauthorized},
		{token: "nope", status: http.StatusUnauthorized},
		{cookie: "banned", status: http.StatusForbidden},
		{cookie: "e500", status: http.StatusServiceUnavailable},
		{cookie: "slow", status: http.StatusServiceUnavailable},
		{cookie: "garbage", status: http.StatusServiceUnavailable},
		{cookie: "nouser", status: http.StatusServiceUnavailable},
		{cookie: "huge", status: http.StatusServiceUnavailable},
	} {
		name := "cookie " + tt.cookie + " token " + tt.token
		start := time.Now()
		c, resp, err := dialWith(url, tt.cookie, tt.token)
		if tt.status != 0 {
			if err == nil {
				c.Close()
				t.Errorf("%s: handshake succeeded, want %d", name, tt.status)
			} else if resp == nil || resp.StatusCode != tt.status {
				t.Errorf("%s: %v %+v, want %d", name, err, resp, tt.status)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("%s: answered after %v, want within --auth-timeout", name, took)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if u := authUser(wsRead(t, c)); u != "alice" {
			t.Errorf("%s: auth user %q, want alice", name, u)
		}
		c.WriteJSON(map[string]any{"id": 1, "call": "whoami"})
		if m := wsRead(t, c); m["result"] != "alice" {
			t.Errorf("%s: whoami answered %v: the backend did not see X-Wsgate-User alice", name, m)
		}
		// The hook's permissions hold: subscribe chat.>, call whoami.
		for _, req := range []map[string]any{{"id": 2, "sub": "news"}, {"id": 3, "call": "other"}} {
			c.WriteJSON(req)
			if e, _ := wsRead(t, c)["error"].(map[string]any); e["code"] != "forbidden" {
				t.Errorf("%s: %v answered %v, want forbidden", name, req, e)
			}
		}
		c.WriteJSON(map[string]any{"id": 4, "sub": "chat.lobby"})
		if m := wsRead(t, c); m["error"] != nil {
			t.Errorf("%s: sub chat.lobby: %v", name, m)
		}
		c.Close()
	}

	hooks, _ := be.seen()
	if len(hooks) == 0 {
		t.Fatal("the hook was never asked")
	}
	h := hooks[0] // cookie alice
	for name, want := range map[string]string{"Cookie": "s=alice", "Authorization": "Bearer abc", "X-Tenant": "acme", "X-Other": "", "Content-Type": "application/json"} {
		if got := h.header.Get(name); got != want {
			t.Errorf("hook saw %s %q, want %q", name, got, want)
		}
	}
	if _, ok := h.body["token"]; ok || h.body["remote"] != "127.0.0.1" {
		t.Errorf("hook body %v, want the remote address and no token", h.body)
	}
	if h := hooks[2]; h.body["token"] != "t" || h.header.Get("Cookie") != "s=alice" {
		t.Errorf("cookie and token: hook saw %v %v", h.header, h.body)
	}
}

// TestRunBackendAuthAfterHandshake: a handshake with nothing to check
// sends its token as a message, which reaches the hook alone; the
// connection refreshes it through the hook; calls to _connect or any
// '_' method never reach the backend.
func TestRunBackendAuthAfterHandshake(t *testing.T) {
	t.Parallel()
	be := newFakeBackend(t)
	addr := startRun(t, "--auth", "backend", "--backend", be.URL, "--auth-timeout", "2s", "--auth-forward-headers", "")
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr.String()+"/ws", http.Header{"X-Other": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if hooks, _ := be.seen(); len(hooks) != 0 {
		t.Fatalf("hook asked for a handshake without credentials: %v", hooks)
	}
	c.WriteJSON(map[string]any{"id": "a", "auth": "short"})
	if m := wsRead(t, c); authUser(m) != "alice" || m["id"] != "a" {
		t.Fatalf("auth answered %v", m)
	}
	hooks, _ := be.seen()
	if len(hooks) != 1 || !reflect.DeepEqual(hooks[0].body, map[string]any{"token": "short"}) || hooks[0].header.Get("X-Other") != "" {
		t.Fatalf("hook saw %+v, want the token alone", hooks)
	}
	for i, m := range []string{"_connect", "_x"} {
		c.WriteJSON(map[string]any{"id": i, "call": m, "args": map[string]any{"token": "alice"}})
		r := wsRead(t, c)
		if e, _ := r["error"].(map[string]any); e["code"] != "not_found" {
			t.Errorf("call %s: %v, want not_found", m, r)
		}
	}
	// The refresh push comes a third of the 3 s before the expiry.
	if m := wsRead(t, c); m["auth"] != "refresh" {
		t.Fatalf("got %v, want a refresh push", m)
	}
	c.WriteJSON(map[string]any{"auth": "alice"})
	if m := wsRead(t, c); authUser(m) != "alice" {
		t.Fatalf("refresh answered %v", m)
	}
	time.Sleep(3 * time.Second) // past the first expiry
	c.WriteJSON(map[string]any{"id": 9, "call": "whoami"})
	if m := wsRead(t, c); m["result"] != "alice" {
		t.Errorf("whoami after the refresh: %v", m)
	}
	c.WriteJSON(map[string]any{"auth": "nope"})
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != int(wsgate.CloseTokenInvalid) || !strings.Contains(ce.Text, "session expired") {
		t.Errorf("refused refresh: %v, want close %d saying session expired", err, wsgate.CloseTokenInvalid)
	}
	hooks, calls := be.seen()
	if len(hooks) != 3 || len(calls) != 1 || calls[0] != "/whoami" {
		t.Errorf("backend saw %d hook requests and calls %v; want 3 and [/whoami]", len(hooks), calls)
	}
}

// TestRunBackendAuthUnreachable: a backend that refuses connections
// makes handshakes 503 and token messages close 1013.
func TestRunBackendAuthUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	addr := startRun(t, "--auth", "backend", "--backend", down, "--auth-timeout", "1s")
	url := "ws://" + addr.String() + "/ws"
	if _, resp, err := dialWith(url, "alice", ""); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("handshake: %v %+v, want 503", err, resp)
	}
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.WriteJSON(map[string]any{"auth": "alice"})
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 1013 {
		t.Errorf("token message: %v, want close 1013", err)
	}
}

// TestBackendAuthenticators: the hook's answer becomes the Identity,
// permissions and info included; refusals and failures map to
// Config.Authenticate's errors.
func TestBackendAuthenticators(t *testing.T) {
	t.Parallel()
	be := newFakeBackend(t)
	c, err := backend.New(backend.Config{URL: be.URL, Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a := backendAuthenticators(c, []string{"Authorization"}, true)
	ctx := context.Background()
	id, err := a.token(ctx, "alice")
	want := wsgate.Permissions{Subscribe: []string{"chat.>"}, Publish: []string{}, Call: []string{"whoami"}}
	if err != nil || id.User != "alice" || id.Permissions == nil || !reflect.DeepEqual(*id.Permissions, want) ||
		!reflect.DeepEqual(id.Claims, map[string]any{"plan": "pro"}) || time.Until(id.Expires) < 59*time.Minute {
		t.Fatalf("%+v, %v", id, err)
	}
	for tok, check := range map[string]func(error) bool{
		"nope":    func(err error) bool { return err != nil && err.Error() == "session expired" },
		"banned":  func(err error) bool { return errors.Is(err, wsgate.ErrAuthForbidden) },
		"e500":    func(err error) bool { return errors.Is(err, wsgate.ErrAuthUnavailable) },
		"slow":    func(err error) bool { return errors.Is(err, wsgate.ErrAuthUnavailable) },
		"garbage": func(err error) bool { return errors.Is(err, wsgate.ErrAuthUnavailable) },
	} {
		if _, err := a.token(ctx, tok); !check(err) {
			t.Errorf("token %s: %v", tok, err)
		}
	}
	r := httptest.NewRequest("GET", "/ws", nil)
	if _, err := a.handshake(ctx, r); !errors.Is(err, wsgate.ErrNoCredentials) {
		t.Errorf("empty handshake: %v, want ErrNoCredentials", err)
	}
	r = httptest.NewRequest("GET", "/ws?token=alice", nil)
	if id, err := a.handshake(ctx, r); err != nil || id.User != "alice" {
		t.Errorf("query token: %+v, %v", id, err)
	}
}
