package backend

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/errcode"
)

func TestParseConnectReply(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		body string
		want Identity
		err  string // a part of the error; "" for none
	}{
		{body: `{"user":"alice"}`, want: Identity{User: "alice"}},
		{body: ` {"user":"alice","expires":1767225600,"permissions":{"call":["a.*"]},"info":{"plan":"pro"},"other":1} `,
			want: Identity{User: "alice", Expires: time.Unix(1767225600, 0), Permissions: json.RawMessage(`{"call":["a.*"]}`), Info: map[string]any{"plan": "pro"}}},
		{body: `{"user":"bob","expires":null,"permissions":null,"info":null}`, want: Identity{User: "bob"}},
		{body: `{"user":"élise"}`, want: Identity{User: "élise"}},
		{body: ``, err: "not a JSON object"},
		{body: `hello`, err: "not a JSON object"},
		{body: `["alice"]`, err: "not a JSON object"},
		{body: `"alice"`, err: "not a JSON object"},
		{body: `{"user":"alice"} {}`, err: "connect reply"},
		{body: `{"user":"alice"`, err: "connect reply"},
		{body: `{}`, err: `no "user"`},
		{body: `{"user":null}`, err: `no "user"`},
		{body: `{"user":7}`, err: "connect reply"},
		{body: `{"user":""}`, err: "control characters"},
		{body: `{"user":"a\nb"}`, err: "control characters"},
		{body: `{"user":"a\tb"}`, err: "control characters"},
		{body: `{"user":"a","expires":"soon"}`, err: `"expires"`},
		{body: `{"user":"a","expires":1.5}`, err: `"expires"`},
		{body: `{"user":"a","expires":0}`, err: `"expires"`},
		{body: `{"user":"a","expires":-5}`, err: `"expires"`},
		{body: `{"user":"a","permissions":["x"]}`, err: `"permissions"`},
		{body: `{"user":"a","permissions":"x"}`, err: `"permissions"`},
		{body: `{"user":"a","info":[1]}`, err: `"info"`},
		{body: `{"user":"a","info":5}`, err: `"info"`},
		{body: "{\"user\":\"a\xffb\"}", err: "not a JSON object"},
	} {
		got, err := ParseConnectReply([]byte(tt.body))
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v", tt.body, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: error %v, want one saying %s", tt.body, err, tt.err)
		case tt.err == "" && !reflect.DeepEqual(got, tt.want):
			t.Errorf("%s: %+v, want %+v", tt.body, got, tt.want)
		}
	}
}

func FuzzParseConnectReply(f *testing.F) {
	for _, s := range []string{
		`{"user":"alice","expires":1767225600,"permissions":{"call":["a"]},"info":{"x":[1,2]}}`,
		`{"user":"a","expires":1e3}`, `{"user":"\u0000"}`, `{"user":"a","permissions":{}}`, `null`, `{"user":"a","info":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := ParseConnectReply(body)
		if err != nil {
			return
		}
		if id.User == "" || !validHeaderValue(id.User) {
			t.Fatalf("user %q accepted", id.User)
		}
		if !id.Expires.IsZero() && id.Expires.Unix() <= 0 {
			t.Fatalf("expires %v accepted", id.Expires)
		}
		if id.Permissions != nil && (!json.Valid(id.Permissions) || id.Permissions[0] != '{') {
			t.Fatalf("permissions %s accepted", id.Permissions)
		}
	})
}

// hookRequest is what a test hook received.
type hookRequest struct {
	path   string
	header http.Header
	body   map[string]any
}

// newHook starts a connection hook answering with answer, and a Client
// for it with timeout; requests are sent on got, which holds 16.
func newHook(t *testing.T, timeout time.Duration, answer http.HandlerFunc) (*Client, chan hookRequest) {
	t.Helper()
	got := make(chan hookRequest, 16)
	c, _ := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &body)
		select {
		case got <- hookRequest{path: r.URL.Path, header: r.Header.Clone(), body: body}:
		default:
		}
		answer(w, r)
	}), Config{Timeout: timeout})
	return c, got
}

func TestConnect(t *testing.T) {
	t.Parallel()
	huge := `{"user":"alice","info":{"pad":"` + strings.Repeat("x", MaxConnectReply) + `"}}`
	for _, tt := range []struct {
		name   string
		answer http.HandlerFunc
		user   string // the identity's user, or
		is     error  // an error that Connect's wraps, or
		code   errcode.Code
		msg    string // with is: the error's Message
	}{
		{name: "yes", answer: reply(200, `{"user":"alice","expires":1767225600}`), user: "alice"},
		{name: "401", answer: reply(401, `{"error":"session expired"}`), is: ErrUnauthorized, msg: "session expired"},
		{name: "401 bare", answer: reply(401, ``), is: ErrUnauthorized, msg: "backend: unauthorized"},
		{name: "403", answer: reply(403, `{"message":"banned"}`), is: ErrForbidden, msg: "banned"},
		{name: "500", answer: reply(500, `{"user":"alice"}`), code: errcode.Unavailable},
		{name: "503", answer: reply(503, ``), code: errcode.Unavailable},
		{name: "redirect", answer: reply(302, ``, "Location", "/login"), code: errcode.Unavailable},
		{name: "204", answer: reply(204, ``), code: errcode.Unavailable},
		{name: "201", answer: reply(201, `{"user":"alice"}`), code: errcode.Unavailable},
		{name: "404", answer: reply(404, ``), code: errcode.Unavailable},
		{name: "not JSON", answer: reply(200, `<html>`), code: errcode.Unavailable},
		{name: "no user", answer: reply(200, `{"name":"alice"}`), code: errcode.Unavailable},
		{name: "huge", answer: reply(200, huge), code: errcode.Unavailable},
		{name: "slow", answer: func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, code: errcode.Timeout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := newHook(t, 200*time.Millisecond, tt.answer)
			id, err := c.Connect(context.Background(), ConnectRequest{Remote: "192.0.2.1", Token: "t"})
			switch {
			case tt.user != "":
				if err != nil || id.User != tt.user {
					t.Fatalf("%+v, %v; want user %s", id, err, tt.user)
				}
			case tt.is != nil:
				if !errors.Is(err, tt.is) {
					t.Fatalf("error %v, want %v", err, tt.is)
				}
				var e *Error
				if !errors.As(err, &e) || e.Message != tt.msg {
					t.Fatalf("error %v, want message %q", err, tt.msg)
				}
			default:
				wantCode(t, err, tt.code)
				if errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrForbidden) {
					t.Fatalf("error %v is a refusal", err)
				}
			}
		})
	}
}

// TestConnectRequest: the hook gets Cookie and the forwarded fields,
// not the others, and a body with the remote address and the token.
func TestConnectRequest(t *testing.T) {
	t.Parallel()
	c, got := newHook(t, time.Second, reply(200, `{"user":"alice"}`))
	r := httptest.NewRequest("GET", "/ws", nil)
	r.RemoteAddr = "203.0.113.7:51234"
	r.Header.Set("Cookie", "session=abc")
	r.Header.Set("Authorization", "Bearer xyz")
	r.Header.Set("X-Tenant", "acme")
	r.Header.Set("X-Other", "no")
	r.Header.Set(UserHeader, "mallory")
	req := NewConnectRequest(r, []string{"authorization", "X-Tenant", "X-Absent", UserHeader}, "tok")
	if _, err := c.Connect(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	h := <-got
	if h.path != "/rpc/_connect" {
		t.Errorf("path %s", h.path)
	}
	for name, want := range map[string]string{
		"Cookie": "session=abc", "Authorization": "Bearer xyz", "X-Tenant": "acme", "Content-Type": "application/json",
		"X-Other": "", "X-Absent": "", UserHeader: "",
	} {
		if v := h.header.Get(name); v != want {
			t.Errorf("%s: %q, want %q", name, v, want)
		}
	}
	if want := map[string]any{"remote": "203.0.113.7", "token": "tok"}; !reflect.DeepEqual(h.body, want) {
		t.Errorf("body %v, want %v", h.body, want)
	}
	req = NewConnectRequest(r, nil, "")
	if _, err := c.Connect(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if h := <-got; h.header.Get("Authorization") != "" || h.header.Get("Cookie") != "session=abc" || !reflect.DeepEqual(h.body, map[string]any{"remote": "203.0.113.7"}) {
		t.Errorf("without token nor forwarded fields: %v %v", h.header, h.body)
	}
	if NewConnectRequest(httptest.NewRequest("GET", "/ws", nil), []string{"Authorization"}, "").Empty() != true {
		t.Error("a handshake with nothing to check is not Empty")
	}
}

func TestConnectRefused(t *testing.T) {
	t.Parallel()
	addr := refusingAddr(t)
	c, err := New(Config{URL: "http://" + addr, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Connect(context.Background(), ConnectRequest{Remote: "192.0.2.1", Token: "t"})
	wantCode(t, err, errcode.Unavailable)
	if !errors.Is(err, syscallRefused) {
		t.Errorf("error %v: want connection refused", err)
	}
}

// TestConnectShared: identical requests in flight share one hook
// request; different ones do not.
func TestConnectShared(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	release := make(chan struct{})
	c, _ := newHook(t, 5*time.Second, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		<-release
		io.WriteString(w, `{"user":"alice"}`)
	})
	const clients = 20
	var wg sync.WaitGroup
	errs := make(chan error, 2*clients)
	for i := range 2 * clients {
		token := "a"
		if i%2 == 1 {
			token = "b"
		}
		wg.Go(func() {
			id, err := c.Connect(context.Background(), ConnectRequest{Remote: "192.0.2.1", Token: token, Header: http.Header{"Cookie": {"s=1"}}})
			if err == nil && id.User != "alice" {
				err = errors.New("user " + id.User)
			}
			errs <- err
		})
	}
	// Let every Connect join its flight before the hook answers.
	for deadline := time.Now().Add(5 * time.Second); n.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := n.Load(); got != 2 {
		t.Errorf("%d hook requests for 2 distinct credentials", got)
	}
	if len(c.connects) != 0 {
		t.Errorf("%d flights left", len(c.connects))
	}
}

// TestConnectWaiterCancelled: a Connect waiting on a shared request
// returns when its own context ends.
func TestConnectWaiterCancelled(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	c, _ := newHook(t, 5*time.Second, func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		io.WriteString(w, `{"user":"alice"}`)
	})
	req := ConnectRequest{Remote: "192.0.2.1", Token: "t"}
	first := make(chan error, 1)
	go func() {
		_, err := c.Connect(context.Background(), req)
		first <- err
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Connect(ctx, req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiter: %v, want its deadline", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Error(err)
	}
}

func TestCheckForwardHeader(t *testing.T) {
	t.Parallel()
	for name, ok := range map[string]bool{
		"Authorization": true, "x-api-key": true, "X-Tenant": true, "Sec-WebSocket-Protocol": true,
		"": false, "Bad Name": false, "a:b": false, "Host": false, "content-type": false, "Content-Length": false,
		"Transfer-Encoding": false, "Connection": false, UserHeader: false, "x-wsgate-user": false,
	} {
		if err := CheckForwardHeader(name); (err == nil) != ok {
			t.Errorf("%q: %v, want ok=%v", name, err, ok)
		}
	}
}
