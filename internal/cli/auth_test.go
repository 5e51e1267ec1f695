package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
)

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAuthFileErrors: a secret or key file that cannot serve stops the
// start with a message naming the flag and the file.
func TestAuthFileErrors(t *testing.T) {
	t.Parallel()
	short := writeFile(t, "short", []byte("too short\n"))
	notPEM := writeFile(t, "key.pem", []byte("hello"))
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--auth-jwt-secret-file", short}, `wsgate: --auth-jwt-secret-file "` + short + `": auth: unusable key: HMAC secret of 9 bytes: want at least 32`},
		{[]string{"--auth-jwt-key-file", notPEM}, `wsgate: --auth-jwt-key-file "` + notPEM + `": auth: unusable key: no PEM block`},
	} {
		args := append([]string{"--auth", "jwt", "--listen", "127.0.0.1:0"}, tt.args...)
		err := Run(context.Background(), args, noEnv, &bytes.Buffer{}, &bytes.Buffer{}, nil)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q: %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestAuthFlags(t *testing.T) {
	t.Parallel()
	env := map[string]string{"WSGATE_AUTH": "jwt", "WSGATE_AUTH_JWKS_URL": "https://id.example/jwks"}
	o, err := parseFlags([]string{"--auth-issuer", "https://id.example", "--auth-audience", "wsgate", "--auth-skew", "5s", "--auth-timeout", "3s", "--auth-query-token"},
		func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	want := authOptions{mode: "jwt", jwksURL: "https://id.example/jwks", issuer: "https://id.example", audience: "wsgate", skew: 5 * time.Second, timeout: 3 * time.Second, queryToken: true,
		forward: listFlag{value: "Authorization"}}
	if o.auth != want {
		t.Errorf("auth flags %+v, want %+v", o.auth, want)
	}
	if o, _ := parseFlags(nil, noEnv, &bytes.Buffer{}); o.auth.mode != "none" || o.auth.skew != 30*time.Second || o.auth.timeout != 10*time.Second || o.auth.forward != (listFlag{value: "Authorization"}) {
		t.Errorf("auth defaults %+v", o.auth)
	}
	env = map[string]string{"WSGATE_AUTH": "backend", "WSGATE_BACKEND": "http://127.0.0.1:1", "WSGATE_AUTH_FORWARD_HEADERS": "X-Api-Key, Authorization"}
	o, err = parseFlags(nil, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil || o.auth.mode != "backend" || o.auth.forward != (listFlag{value: "X-Api-Key, Authorization", set: true}) {
		t.Errorf("backend auth from the environment: %+v, %v", o.auth, err)
	}
}

// TestRunWithJWT serves with --auth jwt and an ECDSA key file: a token it
// signed opens /ws, and the connection says who it is; another is
// refused at the handshake.
func TestRunWithJWT(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := writeFile(t, "key.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	addr := startRun(t, "--auth", "jwt", "--auth-jwt-key-file", keyFile, "--auth-issuer", "https://id.example", "--auth-skew", "2s")
	url := "ws://" + addr.String() + "/ws"
	sign := func(iss string) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"sub": "ada", "iss": iss, "exp": time.Now().Add(time.Hour).Unix()}).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	d := websocket.Dialer{Subprotocols: []string{"wsgate.v1", "wsgate.auth." + sign("https://id.example")}}
	c, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := c.ReadMessage()
	var r struct {
		Auth struct {
			User string `json:"user"`
			Exp  int64  `json:"exp"`
		} `json:"auth"`
	}
	if err != nil || json.Unmarshal(b, &r) != nil || r.Auth.User != "ada" {
		t.Fatalf("first message %s, %v; want the auth reply for ada", b, err)
	}
	// The connection may live until exp plus the skew.
	if exp := time.Unix(r.Auth.Exp, 0); time.Until(exp) < time.Hour || time.Until(exp) > time.Hour+3*time.Second {
		t.Errorf("exp %v: want an hour and 2s from now", exp)
	}
	d.Subprotocols[1] = "wsgate.auth." + sign("https://evil.example")
	if _, resp, err := d.Dial(url, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token of another issuer: %v %+v, want 401", err, resp)
	} else if !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
	}
}
