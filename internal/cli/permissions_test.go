package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
)

// TestPermissionFlagErrors: a pattern the server cannot read stops the
// start with a message naming the flag.
func TestPermissionFlagErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ flag, value string }{
		{"--allow-subscribe", "a..b"}, {"--allow-publish", "chat.>.x"}, {"--allow-call", "market.hist*"},
	} {
		err := Run(context.Background(), []string{tt.flag, tt.value, "--listen", "127.0.0.1:0"}, noEnv, &bytes.Buffer{}, &bytes.Buffer{}, nil)
		if err == nil || !strings.HasPrefix(err.Error(), "wsgate: "+tt.flag+": invalid pattern") {
			t.Errorf("%s %q: %v, want an invalid pattern error naming the flag", tt.flag, tt.value, err)
		}
	}
}

// TestRunWithPermissions serves with --auth jwt and --allow-* flags: a
// token without the permissions claim gets the flags' permissions, one
// with it gets its own ({sub} is its user), one whose claim is not a
// permissions object is refused.
func TestRunWithPermissions(t *testing.T) {
	t.Parallel()
	secret := []byte("a test secret of at least 32 bytes, for HS256")
	secretFile := writeFile(t, "secret", secret)
	addr := startRun(t, "--auth", "jwt", "--auth-jwt-secret-file", secretFile,
		"--allow-subscribe", "public.*", "--allow-publish", "", "--allow-call", "market.*")
	url := "ws://" + addr.String() + "/ws"
	sign := func(claim any) string {
		c := jwt.MapClaims{"sub": "ada", "exp": time.Now().Add(time.Hour).Unix()}
		if claim != nil {
			c["wsgate"] = claim
		}
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	open := func(tok string) *websocket.Conn {
		t.Helper()
		d := websocket.Dialer{Subprotocols: []string{"wsgate.v1", "wsgate.auth." + tok}}
		c, _, err := d.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := c.ReadMessage(); err != nil { // the auth reply
			t.Fatal(err)
		}
		return c
	}
	errorCode := func(c *websocket.Conn, req string) string {
		t.Helper()
		if err := c.WriteMessage(websocket.TextMessage, []byte(req)); err != nil {
			t.Fatal(err)
		}
		var r struct {
			ID    json.RawMessage        `json:"id"`
			Error *struct{ Code string } `json:"error"`
		}
		for r.ID == nil { // skip publications
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, b, err := c.ReadMessage()
			if err != nil || json.Unmarshal(b, &r) != nil {
				t.Fatalf("%s: %s %v", req, b, err)
			}
		}
		if r.Error == nil {
			return ""
		}
		return r.Error.Code
	}
	flags := open(sign(nil))
	own := open(sign(map[string]any{"subscribe": []string{"user.{sub}.>"}, "publish": []string{"user.{sub}.>"}}))
	for _, tt := range []struct {
		c         *websocket.Conn
		name, req string
		want      string
	}{
		{flags, "flags", `{"id":1,"sub":"public.news"}`, ""},
		{flags, "flags", `{"id":1,"sub":"user.ada.inbox"}`, "forbidden"},
		{flags, "flags", `{"id":1,"pub":"public.news","data":1}`, "forbidden"},
		{flags, "flags", `{"id":1,"call":"market.symbols"}`, ""},
		{flags, "flags", `{"id":1,"call":"demo.stats"}`, "forbidden"},
		{own, "claim", `{"id":1,"sub":"user.ada.inbox"}`, ""},
		{own, "claim", `{"id":1,"sub":"user.bob.inbox"}`, "forbidden"},
		{own, "claim", `{"id":1,"sub":"public.news"}`, "forbidden"},
		{own, "claim", `{"id":1,"pub":"user.ada.inbox","data":1}`, ""},
		{own, "claim", `{"id":1,"call":"market.symbols"}`, "forbidden"},
	} {
		if got := errorCode(tt.c, tt.req); got != tt.want {
			t.Errorf("%s %s: error %q, want %q", tt.name, tt.req, got, tt.want)
		}
	}
	d := websocket.Dialer{Subprotocols: []string{"wsgate.v1", "wsgate.auth." + sign("everything")}}
	if _, resp, err := d.Dial(url, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token whose claim is not a permissions object: %v %+v, want 401", err, resp)
	}
}
