package wsgate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgate/wsgate"
)

// tokenUsers is a Config.Authenticate whose token is the user's name;
// own gives some users permissions of their own.
func tokenUsers(own map[string]*wsgate.Permissions) func(context.Context, string) (wsgate.Identity, error) {
	return func(_ context.Context, tok string) (wsgate.Identity, error) {
		if tok == "" || tok == "nobody" {
			return wsgate.Identity{}, errors.New("unknown user")
		}
		return wsgate.Identity{User: tok, Permissions: own[tok]}, nil
	}
}

// permServer starts a server where "whoami" answers the caller and
// "market.quote" is cached for every caller.
func permServer(t *testing.T, cfg wsgate.Config) string {
	t.Helper()
	srv, url := startServer(t, cfg)
	srv.Handle("whoami", func(ctx context.Context, _ json.RawMessage) (any, error) {
		id, _ := wsgate.IdentityFromContext(ctx)
		return id.User, nil
	})
	var quotes atomic.Int64
	srv.Handle("market.quote", func(context.Context, json.RawMessage) (any, error) {
		return quotes.Add(1), nil
	}, wsgate.CacheFor(time.Minute))
	return url + "/ws"
}

// connectAs opens /ws with user's token and reads the auth reply.
func connectAs(t *testing.T, url, user string) *websocket.Conn {
	t.Helper()
	c, _, err := dialToken(url, user)
	if err != nil {
		t.Fatalf("dial as %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	wantUser(t, readAuthNoExp(t, c), user)
	return c
}

// readAuthNoExp reads the auth reply of an identity that never expires.
func readAuthNoExp(t *testing.T, c *websocket.Conn) authReply {
	t.Helper()
	r := readAuth(t, c, 5*time.Second)
	r.Auth = json.RawMessage(strings.Replace(string(r.Auth), "}", `,"exp":1}`, 1))
	return r
}

// TestPermissions: sub, pub and call are checked against the identity's
// permissions, or Config.Permissions when it has none; unsub never is.
func TestPermissions(t *testing.T) {
	t.Parallel()
	url := permServer(t, wsgate.Config{
		Authenticate: tokenUsers(map[string]*wsgate.Permissions{
			"bob": {Subscribe: []string{">"}}, // may read anything, do nothing else
		}),
		Permissions: &wsgate.Permissions{
			Subscribe: []string{"news.*", "user.{user}.>"},
			Publish:   []string{"chat.*"},
			Call:      []string{"market.*", "whoami"},
		},
	})
	for _, tt := range []struct {
		user, req, want string // want: the error code, "" for none
	}{
		{"alice", `{"id":1,"sub":"news.world"}`, ""},
		{"alice", `{"id":1,"sub":"news.world.europe"}`, "forbidden"},
		{"alice", `{"id":1,"sub":"user.alice.inbox"}`, ""},
		{"alice", `{"id":1,"sub":"user.alice.inbox.drafts"}`, ""},
		{"alice", `{"id":1,"sub":"user.bob.inbox"}`, "forbidden"},
		{"alice", `{"id":1,"sub":"user.bob.inbox","since":{"seq":1,"epoch":"x"}}`, "forbidden"},
		{"alice", `{"id":1,"unsub":"user.bob.inbox"}`, ""},
		{"alice", `{"id":1,"pub":"chat.lobby","data":"hi"}`, ""},
		{"alice", `{"id":1,"pub":"news.world","data":"fake"}`, "forbidden"},
		{"alice", `{"id":1,"call":"whoami"}`, ""},
		{"alice", `{"id":1,"call":"market.quote"}`, ""},
		{"alice", `{"id":1,"call":"admin.reset"}`, "forbidden"}, // not not_found: nothing is told
		{"bob", `{"id":1,"sub":"user.alice.inbox"}`, ""},
		{"bob", `{"id":1,"pub":"chat.lobby","data":"hi"}`, "forbidden"},
		{"bob", `{"id":1,"call":"whoami"}`, "forbidden"},
		{"bob", `{"id":1,"call":"market.quote"}`, "forbidden"}, // cached by alice: still checked
	} {
		t.Run(tt.user+" "+tt.req, func(t *testing.T) {
			c := connectAs(t, url, tt.user)
			r := request(t, c, tt.req)
			got := ""
			if r.Error != nil {
				got = r.Error.Code
			}
			if got != tt.want {
				t.Fatalf("%s as %s: error %q (%+v), want %q", tt.req, tt.user, got, r.Error, tt.want)
			}
			if got == "forbidden" && !strings.Contains(r.Error.Message, "not allowed to") {
				t.Errorf("message %q, want one saying what is not allowed", r.Error.Message)
			}
		})
	}
}

// TestPermissionsWithoutAuth: Config.Permissions apply to every client
// when there is no authentication, and {user} matches nothing.
func TestPermissionsWithoutAuth(t *testing.T) {
	t.Parallel()
	url := permServer(t, wsgate.Config{Permissions: &wsgate.Permissions{
		Subscribe: []string{"ticks", "user.{user}.>"},
		Call:      []string{"market.>"},
	}})
	c := dial(t, url)
	for req, want := range map[string]string{
		`{"id":1,"sub":"ticks"}`:                    "",
		`{"id":1,"sub":"user..x"}`:                  "forbidden",
		`{"id":1,"pub":"ticks","data":1}`:           "forbidden",
		`{"id":1,"call":"market.quote"}`:            "",
		`{"id":1,"call":"whoami"}`:                  "forbidden",
		`{"id":1,"pub":"anything.else","data":"x"}`: "forbidden",
	} {
		r := request(t, c, req)
		got := ""
		if r.Error != nil {
			got = r.Error.Code
		}
		if got != want {
			t.Errorf("%s: error %q, want %q", req, got, want)
		}
	}
}

// TestPermissionPublishReachesNoOne: a forbidden pub is not published.
func TestPermissionPublishReachesNoOne(t *testing.T) {
	t.Parallel()
	url := permServer(t, wsgate.Config{
		Authenticate: tokenUsers(map[string]*wsgate.Permissions{
			"reader": {Subscribe: []string{"room.*"}},
			"writer": {Subscribe: []string{"room.*"}, Publish: []string{"room.*"}},
		}),
	})
	reader := connectAs(t, url, "reader")
	if r := request(t, reader, `{"id":1,"sub":"room.a"}`); r.Error != nil {
		t.Fatalf("sub: %+v", r.Error)
	}
	if r := request(t, reader, `{"id":2,"pub":"room.a","data":"forged"}`); r.Error == nil || r.Error.Code != "forbidden" {
		t.Fatalf("reader's pub: %+v, want forbidden", r)
	}
	writer := connectAs(t, url, "writer")
	if r := request(t, writer, `{"id":1,"pub":"room.a","data":"real"}`); r.Error != nil {
		t.Fatalf("writer's pub: %+v", r.Error)
	}
	if p := next(t, reader); p.Ch != "room.a" || string(p.Data) != `"real"` {
		t.Fatalf("reader got %+v, want the writer's publication only", p)
	}
}

// TestPermissionPatternsChecked: New refuses a pattern it cannot read,
// and an identity bringing one is refused.
func TestPermissionPatternsChecked(t *testing.T) {
	t.Parallel()
	if _, err := wsgate.New(wsgate.Config{Permissions: &wsgate.Permissions{Call: []string{"a..b"}}}); err == nil || !strings.Contains(err.Error(), "a..b") {
		t.Errorf("New with a bad pattern: %v, want an error naming it", err)
	}
	url := permServer(t, wsgate.Config{Authenticate: tokenUsers(map[string]*wsgate.Permissions{
		"broken": {Subscribe: []string{"x.>.y"}},
	})})
	if _, resp, err := dialToken(url, "broken"); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("identity with a bad pattern: %v %v, want 401", err, resp)
	}
}

// TestPrivateResultsPerUser: a backend's private result is cached per
// user: a user's second call is served from the cache, and no user ever
// gets another's.
func TestPrivateResultsPerUser(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Cache-Control", "private, max-age=60")
		fmt.Fprintf(w, `{"profile_of":%q}`, r.Header.Get("X-Wsgate-User"))
	}))
	defer upstream.Close()
	url := permServer(t, wsgate.Config{Backend: upstream.URL, Authenticate: tokenUsers(nil)})
	profile := func(c *websocket.Conn) string {
		r := request(t, c, `{"id":1,"call":"me.profile"}`)
		if r.Error != nil {
			t.Fatalf("me.profile: %+v", r.Error)
		}
		return string(r.Result)
	}
	alice, bob := connectAs(t, url, "alice"), connectAs(t, url, "bob")
	for round := range 2 {
		if got := profile(alice); got != `{"profile_of":"alice"}` {
			t.Fatalf("round %d: alice got %s", round, got)
		}
		if got := profile(bob); got != `{"profile_of":"bob"}` {
			t.Fatalf("round %d: bob got %s", round, got)
		}
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d backend calls, want 2 (one per user, the second round cached)", n)
	}
}
