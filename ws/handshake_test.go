package ws

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAcceptKey(t *testing.T) {
	t.Parallel()
	// RFC 6455 §1.3.
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("AcceptKey = %q", got)
	}
}

func TestHeaderTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lines  []string
		tokens []string
	}{
		{nil, nil},
		{[]string{"websocket"}, []string{"websocket"}},
		{[]string{" keep-alive ,Upgrade", "", "\tx ,, y\t"}, []string{"keep-alive", "Upgrade", "x", "y"}},
	}
	for _, tt := range tests {
		h := http.Header{"Connection": tt.lines}
		if got := HeaderTokens(h, "connection"); !slices.Equal(got, tt.tokens) {
			t.Errorf("%q: got %q, want %q", tt.lines, got, tt.tokens)
		}
	}
	h := http.Header{"Connection": {"keep-alive, UPGRADE"}, "Upgrade": {"h2c", "WebSocket"}, "X-Folds": {"websoc\u212Aet, up\u017Fgrade"}}
	for _, c := range []struct {
		name, token string
		want        bool
	}{
		{"Connection", "upgrade", true}, {"connection", "Keep-Alive", true}, {"Connection", "close", false},
		{"Upgrade", "websocket", true}, {"Upgrade", "h2", false}, {"Origin", "x", false},
		// ASCII case only: a Kelvin sign is not a K, a long s not an s.
		{"X-Folds", "websocket", false}, {"X-Folds", "upsgrade", false},
	} {
		if got := HasToken(h, c.name, c.token); got != c.want {
			t.Errorf("HasToken(%s, %s) = %v", c.name, c.token, got)
		}
	}
}

func TestHasTokenAllocs(t *testing.T) {
	h := http.Header{"Connection": {"keep-alive, UPGRADE"}, "Upgrade": {"h2c", "WebSocket"}}
	if a := testing.AllocsPerRun(10, func() { HasToken(h, "Upgrade", "websocket") }); a != 0 {
		t.Errorf("HasToken allocates %v times", a)
	}
}

func TestExtensionNames(t *testing.T) {
	t.Parallel()
	got := extensionNames([]string{`permessage-deflate; client_max_window_bits, x-foo; a="1,2"; b, x-bar`, "", " ; ,y"})
	if want := []string{"permessage-deflate", "x-foo", "x-bar", "y"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// validRequest returns the raw text of a valid handshake, with the header
// lines in extra added and those named in drop left out.
func validRequest(extra string, drop ...string) string {
	lines := []string{
		"GET /ws HTTP/1.1", "Host: example.com", "Upgrade: websocket", "Connection: Upgrade",
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
	}
	var b strings.Builder
	for _, l := range lines {
		name, _, _ := strings.Cut(l, ":")
		if !slices.Contains(drop, name) {
			b.WriteString(l + "\r\n")
		}
	}
	return b.String() + extra + "\r\n"
}

func parseRequest(t *testing.T, raw string) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("ReadRequest: %v", err)
	}
	return r
}

func TestCheckRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		raw    string
		status int // 0: accepted
	}{
		{"valid", validRequest(""), 0},
		{"token lists", validRequest("Upgrade: h2c, WebSocket\r\nConnection: keep-alive, upgrade\r\n", "Upgrade", "Connection"), 0},
		{"post", strings.Replace(validRequest(""), "GET", "POST", 1), 405},
		{"http 1.0", strings.Replace(validRequest(""), "HTTP/1.1", "HTTP/1.0", 1), 505},
		{"no upgrade", validRequest("", "Upgrade"), 426},
		{"upgrade h2c", validRequest("Upgrade: h2c\r\n", "Upgrade"), 400},
		{"no connection", validRequest("", "Connection"), 400},
		{"connection keep-alive", validRequest("Connection: keep-alive\r\n", "Connection"), 400},
		{"no version", validRequest("", "Sec-WebSocket-Version"), 426},
		{"version 8", validRequest("Sec-WebSocket-Version: 8\r\n", "Sec-WebSocket-Version"), 426},
		{"two versions", validRequest("Sec-WebSocket-Version: 8\r\n"), 426},
		{"no key", validRequest("", "Sec-WebSocket-Key"), 400},
		{"short key", validRequest("Sec-WebSocket-Key: AQIDBA==\r\n", "Sec-WebSocket-Key"), 400},
		{"key not base64", validRequest("Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==\r\n", "Sec-WebSocket-Key"), 400},
		{"key bad padding bits", validRequest("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\n", "Sec-WebSocket-Key"), 400},
		{"two keys", validRequest("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key, err := CheckRequest(parseRequest(t, tt.raw))
			if tt.status == 0 {
				if err != nil || key != "dGhlIHNhbXBsZSBub25jZQ==" {
					t.Fatalf("key %q, err %v", key, err)
				}
				return
			}
			var he *HandshakeError
			if !errors.As(err, &he) || he.Status != tt.status || !errors.Is(err, ErrBadHandshake) {
				t.Fatalf("err %v, want status %d", err, tt.status)
			}
		})
	}
}

func TestUpgraderAccept(t *testing.T) {
	t.Parallel()
	u := &Upgrader{
		Subprotocols: []string{"wsgate.v1", "chat"},
		Header:       http.Header{"X-Node": {"a"}, "Sec-Websocket-Accept": {"forged"}},
	}
	tests := []struct {
		name, offer, want string
	}{
		{"server preference", "chat, wsgate.v1", "wsgate.v1"},
		{"only second", "other, chat", "chat"},
		{"no overlap", "other", ""},
		{"case matters", "WSGATE.V1", ""},
		{"none offered", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			extra := ""
			if tt.offer != "" {
				extra = "Sec-WebSocket-Protocol: " + tt.offer + "\r\n"
			}
			h, hs, err := u.Accept(parseRequest(t, validRequest(extra)))
			if err != nil || hs.Subprotocol != tt.want || h.Get("Sec-WebSocket-Protocol") != tt.want {
				t.Fatalf("hs %+v, header %q, err %v", hs, h.Get("Sec-WebSocket-Protocol"), err)
			}
			if h.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" || h.Get("X-Node") != "a" {
				t.Fatalf("header %v", h)
			}
		})
	}
	if u.Header.Get("Sec-WebSocket-Accept") != "forged" {
		t.Fatal("Accept modified Upgrader.Header")
	}
}

// upgradeServer starts an httptest server whose handler upgrades with u and
// echoes the first message back, and returns its ws:// URL.
func upgradeServer(t *testing.T, u *Upgrader) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, br, _, err := u.Upgrade(w, r)
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		rd := NewReader(ReaderOptions{Role: ServerSide})
		buf := make([]byte, 512)
		for {
			m, err := br.Read(buf)
			if err != nil {
				return
			}
			for b := buf[:m]; len(b) > 0; {
				n, ev, err := rd.Next(b)
				if err != nil {
					return
				}
				b = b[n:]
				if ev.Kind == EventMessage {
					conn.Write(AppendFrame(nil, ev.Opcode, true, 0, ev.Payload))
					return
				}
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// readMessage reads one message from a server through br.
func readMessage(t *testing.T, br *bufio.Reader) Event {
	t.Helper()
	rd := NewReader(ReaderOptions{Role: ClientSide})
	for {
		c, err := br.ReadByte()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		_, ev, err := rd.Next([]byte{c})
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind != EventNone {
			ev.Payload = append([]byte(nil), ev.Payload...)
			return ev
		}
	}
}

func TestHandshakeRoundTrip(t *testing.T) {
	t.Parallel()
	var offers []string
	u := &Upgrader{
		Subprotocols: []string{"wsgate.v1"},
		NegotiateExtensions: func(o []string) (string, error) {
			offers = o
			return "x-test; p=1", nil
		},
	}
	url := upgradeServer(t, u)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, hs, err := Dial(ctx, url+"/ws?x=1", DialOptions{
		Subprotocols: []string{"other", "wsgate.v1"},
		Extensions:   "x-test, x-other",
		Header:       http.Header{"Origin": {"http://example.com"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if hs.Subprotocol != "wsgate.v1" || hs.Extensions != "x-test; p=1" || !slices.Equal(offers, []string{"x-test, x-other"}) {
		t.Fatalf("handshake %+v, offers %q", hs, offers)
	}
	if _, err := conn.Write(AppendMaskedFrame(nil, OpText, true, 0, NewMaskKey(), []byte("echo me"))); err != nil {
		t.Fatal(err)
	}
	if ev := readMessage(t, br); ev.Kind != EventMessage || ev.Opcode != OpText || string(ev.Payload) != "echo me" {
		t.Fatalf("echo %+v", ev)
	}
}

func TestUpgradeRejections(t *testing.T) {
	t.Parallel()
	u := &Upgrader{
		CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") != "http://evil.example" },
		NegotiateExtensions: func(o []string) (string, error) {
			if strings.Contains(o[0], "bad") {
				return "", errors.New("bad offer")
			}
			return "", nil
		},
	}
	addr := strings.TrimPrefix(upgradeServer(t, u), "ws://")
	tests := []struct {
		name   string
		raw    string
		status int
		header map[string]string
	}{
		{"method", strings.Replace(validRequest(""), "GET", "POST", 1), 405, map[string]string{"Allow": "GET"}},
		{"http 1.0", strings.Replace(validRequest(""), "HTTP/1.1", "HTTP/1.0", 1), 505, nil},
		{"no upgrade", validRequest("", "Upgrade"), 426, map[string]string{"Upgrade": "websocket", "Sec-WebSocket-Version": "13"}},
		{"bad upgrade", validRequest("Upgrade: h2c\r\n", "Upgrade"), 400, nil},
		{"bad connection", validRequest("Connection: close\r\n", "Connection"), 400, nil},
		{"version", validRequest("Sec-WebSocket-Version: 7\r\n", "Sec-WebSocket-Version"), 426, map[string]string{"Sec-WebSocket-Version": "13"}},
		{"key", validRequest("Sec-WebSocket-Key: abc\r\n", "Sec-WebSocket-Key"), 400, nil},
		{"origin", validRequest("Origin: http://evil.example\r\n"), 403, nil},
		{"extension error", validRequest("Sec-WebSocket-Extensions: bad\r\n"), 400, nil},
		{"accepted", validRequest("Origin: http://good.example\r\nSec-WebSocket-Extensions: fine\r\n"), 101, map[string]string{"Sec-WebSocket-Accept": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "Sec-WebSocket-Extensions": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(conn, tt.raw); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			for k, v := range tt.header {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestUpgradeBytesAfterRequest sends a frame in the same write as the
// request: it sits in net/http's buffer, and Upgrade must hand it over.
func TestUpgradeBytesAfterRequest(t *testing.T) {
	t.Parallel()
	addr := strings.TrimPrefix(upgradeServer(t, &Upgrader{}), "ws://")
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	msg := append([]byte(validRequest("")), AppendMaskedFrame(nil, OpBinary, true, 0, NewMaskKey(), []byte("early"))...)
	if _, err := conn.Write(msg); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("resp %v, err %v", resp, err)
	}
	if ev := readMessage(t, br); ev.Opcode != OpBinary || string(ev.Payload) != "early" {
		t.Fatalf("echo %+v", ev)
	}
}

// fakeServer answers the handshake on the far end of a pipe with respond,
// which gets the client's key and returns the raw response, and returns
// the client end. A frame may follow the response.
func fakeServer(t *testing.T, respond func(key string) string) net.Conn {
	t.Helper()
	c, s := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer s.Close()
		r, err := http.ReadRequest(bufio.NewReader(s))
		if err != nil {
			return
		}
		io.WriteString(s, respond(r.Header.Get("Sec-WebSocket-Key")))
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return c
}

func TestClientHandshakeChecks(t *testing.T) {
	t.Parallel()
	ok := func(extra string) func(string) string {
		return func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + AcceptKey(key) + "\r\n" + extra + "\r\n"
		}
	}
	tests := []struct {
		name    string
		respond func(key string) string
		status  int // 0: accepted
	}{
		{"accepted", ok("Sec-WebSocket-Protocol: b\r\nSec-WebSocket-Extensions: x-a; q=\"1,2\"\r\n"), 0},
		{"forbidden", func(string) string { return "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n" }, 403},
		{"wrong accept", func(string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
		}, 101},
		{"no upgrade", func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + AcceptKey(key) + "\r\n\r\n"
		}, 101},
		{"no connection", func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + AcceptKey(key) + "\r\n\r\n"
		}, 101},
		{"unoffered subprotocol", ok("Sec-WebSocket-Protocol: c\r\n"), 101},
		{"two subprotocols", ok("Sec-WebSocket-Protocol: a, b\r\n"), 101},
		{"unoffered extension", ok("Sec-WebSocket-Extensions: x-b\r\n"), 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			conn := fakeServer(t, tt.respond)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			u := &url.URL{Scheme: "ws", Host: "example.com", Path: "/ws"}
			_, hs, resp, err := ClientHandshake(ctx, conn, u, DialOptions{Subprotocols: []string{"a", "b"}, Extensions: "x-a; q=1"})
			if tt.status == 0 {
				if err != nil || hs.Subprotocol != "b" || hs.Extensions != `x-a; q="1,2"` {
					t.Fatalf("hs %+v, err %v", hs, err)
				}
				return
			}
			var he *HandshakeError
			if !errors.As(err, &he) || he.Status != tt.status || !errors.Is(err, ErrBadHandshake) || resp == nil {
				t.Fatalf("err %v, want status %d", err, tt.status)
			}
		})
	}
}

func TestClientHandshakeContext(t *testing.T) {
	t.Parallel()
	c, s := net.Pipe()
	defer c.Close()
	defer s.Close()
	go io.Copy(io.Discard, s) // a server that never answers; ends when s closes
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, _, err := ClientHandshake(ctx, c, &url.URL{Host: "example.com"}, DialOptions{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, _, _, err = ClientHandshake(ctx, c, &url.URL{Host: "example.com"}, DialOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

func TestDialErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, raw := range []string{"http://example.com/", "ws:///path", "::bad"} {
		if _, _, _, err := Dial(ctx, raw, DialOptions{}); err == nil || !strings.HasPrefix(err.Error(), "ws: dial: ") {
			t.Errorf("%q: err %v", raw, err)
		}
	}
}

// TestDialNetDial: Dial opens its TCP connection with DialOptions.NetDial
// when set, with the URL's host and default port, and its error comes
// back wrapped.
func TestDialNetDial(t *testing.T) {
	t.Parallel()
	refused := errors.New("refused by the test")
	var got []string
	opts := DialOptions{NetDial: func(_ context.Context, network, addr string) (net.Conn, error) {
		got = append(got, network+" "+addr)
		return nil, refused
	}}
	for _, raw := range []string{"ws://example.com/ws", "wss://example.com/ws", "ws://example.com:8080/ws"} {
		if _, _, _, err := Dial(context.Background(), raw, opts); !errors.Is(err, refused) {
			t.Errorf("%s: err %v, want the dialer's", raw, err)
		}
	}
	want := []string{"tcp example.com:80", "tcp example.com:443", "tcp example.com:8080"}
	if !slices.Equal(got, want) {
		t.Fatalf("dialled %q, want %q", got, want)
	}
}

// FuzzCheckRequest compares CheckRequest with rfcCheck, a reading of RFC
// 6455 §4.2.1 written here without the package's helpers: on every
// request net/http parses they agree on the verdict, the status of a
// rejection and the key of an acceptance.
func FuzzCheckRequest(f *testing.F) {
	f.Add([]byte(validRequest("")))
	f.Add([]byte(validRequest("Upgrade: h2c\r\n", "Upgrade")))
	f.Add([]byte(validRequest("Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n", "Sec-WebSocket-Key")))
	f.Add([]byte(validRequest("Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAB==\r\n", "Sec-WebSocket-Key")))
	f.Add([]byte(validRequest("Upgrade: h2c, WebSocket\r\nConnection: keep-alive,\tupgrade\r\n", "Upgrade", "Connection")))
	f.Add([]byte(validRequest("Sec-WebSocket-Version: 13\r\n")))
	f.Add([]byte("GET / HTTP/1.0\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(string(raw))))
		if err != nil {
			return
		}
		wantStatus, wantKey := rfcCheck(r)
		key, err := CheckRequest(r)
		status := 0
		if err != nil {
			var he *HandshakeError
			if !errors.As(err, &he) {
				t.Fatalf("error %v is not a *HandshakeError", err)
			}
			status = he.Status
		}
		if status != wantStatus || key != wantKey {
			t.Fatalf("%q: CheckRequest: status %d, key %q; RFC 6455: status %d, key %q", raw, status, key, wantStatus, wantKey)
		}
		if err == nil && len(AcceptKey(key)) != 28 {
			t.Fatal("bad accept key")
		}
	})
}

// rfcCheck is RFC 6455 §4.2.1 read on its own, with the statuses
// CheckRequest documents: it returns 0 and the key for a valid opening
// handshake, else the status to reject it with. Token lists are split at
// commas and compared ignoring ASCII case only, as §4.2.1 asks.
func rfcCheck(r *http.Request) (status int, key string) {
	lower := func(s string) string {
		b := []byte(s)
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		return string(b)
	}
	trimOWS := func(s string) string {
		for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
			s = s[1:]
		}
		for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
			s = s[:len(s)-1]
		}
		return s
	}
	lists := func(name, token string) bool {
		for _, line := range r.Header[name] {
			for len(line) > 0 {
				elem, rest, _ := strings.Cut(line, ",")
				if lower(trimOWS(elem)) == token {
					return true
				}
				line = rest
			}
		}
		return false
	}
	// The key is 16 bytes in canonical base64: 21 characters of the
	// alphabet, one that leaves the last 4 bits zero, then "==".
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	validKey := func(k string) bool {
		if len(k) != 24 || k[22:] != "==" {
			return false
		}
		for i := range 22 {
			v := strings.IndexByte(alphabet, k[i])
			if v < 0 || i == 21 && v&0x0F != 0 {
				return false
			}
		}
		return true
	}
	switch {
	case r.Method != "GET":
		return http.StatusMethodNotAllowed, ""
	case r.ProtoMajor < 1 || r.ProtoMajor == 1 && r.ProtoMinor < 1:
		return http.StatusHTTPVersionNotSupported, ""
	case len(r.Header["Upgrade"]) == 0:
		return http.StatusUpgradeRequired, ""
	case !lists("Upgrade", "websocket"), !lists("Connection", "upgrade"):
		return http.StatusBadRequest, ""
	}
	if v := r.Header["Sec-Websocket-Version"]; len(v) != 1 || trimOWS(v[0]) != "13" {
		return http.StatusUpgradeRequired, ""
	}
	if k := r.Header["Sec-Websocket-Key"]; len(k) == 1 && validKey(k[0]) {
		return 0, k[0]
	}
	return http.StatusBadRequest, ""
}
