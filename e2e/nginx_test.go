package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// edgeConfig is the nginx configuration TestNginxEdge runs and README's
// "Static files and CDNs" quotes: nginx's http block for an edge cache in
// front of two nodes.
const edgeConfig = "testdata/nginx.conf"

// edgeExample holds the values of edgeConfig that startEdge replaces, each
// found once outside comments.
var edgeExample = struct{ listen, cache, node1, node2 string }{
	listen: "listen 80;",
	cache:  "/var/cache/nginx-wsgate",
	node1:  "10.0.0.1:8080",
	node2:  "10.0.0.2:8080",
}

// immutable is the Cache-Control of a fingerprinted file.
const immutable = "public, max-age=31536000, immutable"

// nginxPath finds nginx: on PATH, or where Debian puts it (/usr/sbin, not
// on every user's PATH). It returns why not when it cannot.
func nginxPath() (string, string) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, ""
	}
	if st, err := os.Stat("/usr/sbin/nginx"); err == nil && !st.IsDir() {
		return "/usr/sbin/nginx", ""
	}
	return "", "nginx is not installed (make deps installs Debian's nginx)"
}

// needNginx returns nginx's path; without one it skips the test, or fails
// it under WSGATE_REQUIRE_PEERS=1.
func needNginx(t *testing.T) string {
	t.Helper()
	nginx, missing := nginxPath()
	if missing != "" {
		peerMissing(t, "nginx", missing)
	}
	return nginx
}

// edgeConf returns edgeConfig with nginx listening on listen, its cache in
// cache and nodes as its upstreams.
func edgeConf(listen, cache string, nodes [2]string) (string, error) {
	b, err := os.ReadFile(edgeConfig)
	if err != nil {
		return "", err
	}
	repl := []struct{ old, new string }{
		{edgeExample.listen, "listen " + listen + ";"},
		{edgeExample.cache, cache},
		{edgeExample.node1, nodes[0]},
		{edgeExample.node2, nodes[1]},
	}
	found := make([]int, len(repl))
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		for j, r := range repl {
			if n := strings.Count(l, r.old); n > 0 {
				found[j] += n
				lines[i] = strings.ReplaceAll(lines[i], r.old, r.new)
			}
		}
	}
	for j, r := range repl {
		if found[j] != 1 {
			return "", fmt.Errorf("%s names %q %d times outside comments, want once", edgeConfig, r.old, found[j])
		}
	}
	return strings.Join(lines, "\n"), nil
}

// startEdge runs nginx in the foreground until the test ends, with
// edgeConfig in front of nodes, everything it writes (pid, error log,
// temporary files, cache) in a temporary folder, and returns its
// http://127.0.0.1:PORT once it listens.
func startEdge(t *testing.T, nginx string, nodes [2]string) string {
	t.Helper()
	dir := t.TempDir()
	listen := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	edge, err := edgeConf(listen, filepath.Join(dir, "cache"), nodes)
	if err != nil {
		t.Fatal(err)
	}
	// Run as root, nginx would start its workers as nobody, who cannot
	// enter the test's folders.
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;"
	}
	main := fmt.Sprintf(`%[2]s
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/wsgate.conf;
}
`, dir, user)
	for name, text := range map[string]string{"nginx.conf": main, "wsgate.conf": edge} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	errorLog := filepath.Join(dir, "error.log")
	t.Cleanup(func() {
		if b, _ := os.ReadFile(errorLog); t.Failed() && len(b) > 0 {
			t.Logf("nginx's error log:\n%s", b)
		}
	})
	p := start(t, nil, nginx, "-e", errorLog, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-g", "daemon off;")
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", listen)
		if err == nil {
			c.Close()
			return "http://" + listen
		}
		select {
		case <-p.done:
			b, _ := os.ReadFile(errorLog)
			t.Fatalf("nginx exited (%v):\n%s", p.cmd.ProcessState, b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx does not listen on %s: %v", listen, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startAlone starts wsgate (bin) on its own (the in-memory broker, the
// demo backend and page) with args, and returns its address, read from
// its start-up log.
func startAlone(t *testing.T, bin string, args ...string) string {
	t.Helper()
	lines := make(chan string, 64)
	start(t, lines, append([]string{bin, "--listen", "127.0.0.1:0"}, args...)...)
	timeout := time.After(20 * time.Second)
	var seen []string
	for {
		select {
		case l := <-lines:
			if _, rest, ok := strings.Cut(l, `msg="wsgate listening" addr=`); ok {
				addr, _, _ := strings.Cut(rest, " ")
				return addr
			}
			seen = append(seen, l)
		case <-timeout:
			t.Fatalf("wsgate did not start; it logged:\n%s", strings.Join(seen, "\n"))
		}
	}
}

// fetch GETs url with the headers given as name, value pairs and returns
// the answer with its body read.
func fetch(t *testing.T, hc *http.Client, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp, body
}

// fingerprinted matches a fingerprinted script or stylesheet named in a
// page: a link, a module import, a url(…).
var fingerprinted = regexp.MustCompile(`[^"'()\s<>=]+\.[0-9a-f]{10}\.(?:m?js|css)\b`)

// pageAsset returns the path of a fingerprinted file that page (served at
// base) names, a script before a stylesheet. A page naming none (the
// demo page may hold its script inline) gives wsgate.js's fingerprinted
// name, whose hash is its ETag.
func pageAsset(t *testing.T, hc *http.Client, base string, page []byte) string {
	t.Helper()
	names := fingerprinted.FindAllString(string(page), -1)
	for _, ext := range []string{"js", "css"} {
		for _, name := range names {
			if !strings.HasSuffix(name, "."+ext) {
				continue
			}
			u, err := url.Parse(base + "/")
			if err != nil {
				t.Fatal(err)
			}
			ref, err := u.Parse(name)
			if err != nil {
				continue
			}
			t.Logf("the page names %s", name)
			return ref.Path
		}
	}
	t.Logf("the page names no fingerprinted file; using wsgate.js's")
	return clientAsset(t, hc, base)
}

// clientAsset returns wsgate.js's fingerprinted name, whose hash is the
// ETag of its plain bytes.
func clientAsset(t *testing.T, hc *http.Client, base string) string {
	t.Helper()
	resp, _ := fetch(t, hc, base+"/wsgate.js")
	tag := strings.Trim(resp.Header.Get("ETag"), `"`)
	if resp.StatusCode != 200 || !regexp.MustCompile(`^[0-9a-f]{10}$`).MatchString(tag) {
		t.Fatalf("/wsgate.js answers %s with ETag %q", resp.Status, tag)
	}
	return "/wsgate." + tag + ".js"
}

// cacheStatus is what nginx says it did with a request (HIT, MISS,
// REVALIDATED, …).
func cacheStatus(r *http.Response) string { return r.Header.Get("X-Cache-Status") }

// nodePing is a node's /edge/ping, asked directly.
func nodePing(t *testing.T, hc *http.Client, addr string) (node string, conns int) {
	t.Helper()
	_, body := fetch(t, hc, "http://"+addr+"/edge/ping")
	var p struct {
		Node  string
		Conns int
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("/edge/ping of %s: %s: %v", addr, body, err)
	}
	return p.Node, p.Conns
}

// deflateFrames is how many compressed frames a node has sent, from its
// /metrics.
func deflateFrames(t *testing.T, hc *http.Client, addr string) int {
	t.Helper()
	_, body := fetch(t, hc, "http://"+addr+"/metrics")
	const name = `wsgate_frames_sent_total{encoding="deflate"} `
	for l := range strings.SplitSeq(string(body), "\n") {
		if v, ok := strings.CutPrefix(l, name); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("%s: %q", addr, l)
			}
			return n
		}
	}
	t.Fatalf("%s/metrics has no %s", addr, name)
	return 0
}

// wsRoundTrip sends a call, a sub and a pub on c and checks the replies
// and the publication, which is long enough to be sent compressed.
func wsRoundTrip(t *testing.T, c *websocket.Conn, channel string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	read := func() string {
		t.Helper()
		_, msg, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		return string(msg)
	}
	send := func(msg string) {
		t.Helper()
		if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	send(`{"id":1,"call":"market.symbols"}`)
	if msg := read(); !strings.HasPrefix(msg, `{"id":1,"result":`) {
		t.Fatalf("call: %s", msg)
	}
	send(`{"id":2,"sub":"` + channel + `"}`)
	if msg := read(); !strings.HasPrefix(msg, `{"id":2,"result":`) {
		t.Fatalf("sub: %s", msg)
	}
	text := strings.Repeat("through the edge ", 64)
	send(`{"id":3,"pub":"` + channel + `","data":{"text":"` + text + `"}}`)
	var reply, pub bool
	for !reply || !pub {
		msg := read()
		switch {
		case strings.HasPrefix(msg, `{"id":3,"result":`):
			reply = true
		case strings.HasPrefix(msg, `{"ch":"`+channel+`","seq":1,"data":{"text":"`+text+`"}`):
			pub = true
		default:
			t.Fatalf("pub: got %s", msg)
		}
	}
}

// TestNginxEdge runs Debian's nginx as a caching reverse proxy
// (testdata/nginx.conf) in front of two wsgate processes and checks what
// a CDN in front of wsgate must do: a fingerprinted file is kept (MISS,
// then HIT) once per encoding, a page is kept briefly then revalidated
// with its ETag (REVALIDATED), a WebSocket through it negotiates
// permessage-deflate on either node, and /edge/ping is never kept.
func TestNginxEdge(t *testing.T) {
	t.Parallel()
	nginx := needNginx(t)
	bin := buildWsgate(t)
	nodes := [2]string{
		startAlone(t, bin, "--node-id", "edge-a"),
		startAlone(t, bin, "--node-id", "edge-b"),
	}
	edge := startEdge(t, nginx, nodes)
	// Without Go's transparent gzip: each request names its encodings.
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	node := "http://" + nodes[0]

	var asset string
	var plain []byte // the asset's bytes
	if !t.Run("fingerprinted", func(t *testing.T) {
		resp, page := fetch(t, hc, edge+"/")
		if resp.StatusCode != 200 {
			t.Fatalf("GET /: %s", resp.Status)
		}
		asset = pageAsset(t, hc, edge, page)
		_, want := fetch(t, hc, node+asset)
		for i, status := range []string{"MISS", "HIT"} {
			resp, body := fetch(t, hc, edge+asset)
			if resp.StatusCode != 200 || cacheStatus(resp) != status {
				t.Fatalf("GET %s #%d: %s, X-Cache-Status %q, want 200, %s", asset, i+1, resp.Status, cacheStatus(resp), status)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != immutable {
				t.Errorf("GET %s #%d: Cache-Control %q, want %q", asset, i+1, cc, immutable)
			}
			if !bytes.Equal(body, want) {
				t.Fatalf("GET %s #%d: %d bytes unlike the node's %d", asset, i+1, len(body), len(want))
			}
		}
		plain = want
		// A fingerprint no node has: its 404 (no-store) is not kept.
		for range 2 {
			stale := "/wsgate.0123456789.js"
			if resp, _ := fetch(t, hc, edge+stale); resp.StatusCode != 404 || cacheStatus(resp) != "MISS" {
				t.Fatalf("GET %s: %s, X-Cache-Status %q, want 404, MISS", stale, resp.Status, cacheStatus(resp))
			}
		}
	}) {
		return
	}

	t.Run("page", func(t *testing.T) {
		direct, want := fetch(t, hc, node+"/")
		etag := direct.Header.Get("ETag")
		// The page is kept for 1 s: asked with its ETag, nginx answers
		// 304 from its copy (HIT) until the copy expires, then asks a node
		// with that ETag (REVALIDATED: the node answered 304).
		var seen []string
		for deadline := time.Now().Add(10 * time.Second); ; {
			resp, body := fetch(t, hc, edge+"/", "If-None-Match", etag)
			if resp.StatusCode != 304 || len(body) != 0 || resp.Header.Get("ETag") != etag || resp.Header.Get("Cache-Control") != "no-cache" {
				t.Fatalf("GET / If-None-Match %s: %s, ETag %q, Cache-Control %q, %d bytes; want 304, the same ETag, no-cache, no body",
					etag, resp.Status, resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"), len(body))
			}
			seen = append(seen, cacheStatus(resp))
			if cacheStatus(resp) == "REVALIDATED" {
				break
			}
			if cacheStatus(resp) != "HIT" {
				t.Fatalf("X-Cache-Status %v, want HIT until REVALIDATED", seen)
			}
			if time.Now().After(deadline) {
				t.Fatalf("no revalidation in 10 s: X-Cache-Status %v", seen)
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("X-Cache-Status of conditional GETs: %v", seen)
		// The revalidated copy is whole (and fresh again, unless this
		// request comes a second later).
		resp, body := fetch(t, hc, edge+"/")
		if st := cacheStatus(resp); resp.StatusCode != 200 || st != "HIT" && st != "REVALIDATED" || !bytes.Equal(body, want) {
			t.Fatalf("GET / after revalidation: %s, X-Cache-Status %q, %d bytes (the node's: %d)", resp.Status, cacheStatus(resp), len(body), len(want))
		}
	})

	t.Run("encodings", func(t *testing.T) {
		// A file too small to shrink has no compressed bytes: wsgate.js
		// has both.
		if resp, _ := fetch(t, hc, node+asset, "Accept-Encoding", "gzip"); resp.Header.Get("Content-Encoding") != "gzip" {
			small := asset
			asset = clientAsset(t, hc, node)
			_, plain = fetch(t, hc, node+asset)
			fetch(t, hc, edge+asset) // nginx keeps its plain bytes
			t.Logf("%s is not sent compressed; using %s", small, asset)
		}
		for _, enc := range []string{"gzip", "br"} {
			_, want := fetch(t, hc, node+asset, "Accept-Encoding", enc)
			for i, status := range []string{"MISS", "HIT"} {
				resp, body := fetch(t, hc, edge+asset, "Accept-Encoding", enc)
				if resp.StatusCode != 200 || cacheStatus(resp) != status || resp.Header.Get("Content-Encoding") != enc {
					t.Fatalf("GET %s (%s) #%d: %s, X-Cache-Status %q, Content-Encoding %q; want 200, %s, %s", asset, enc, i+1,
						resp.Status, cacheStatus(resp), resp.Header.Get("Content-Encoding"), status, enc)
				}
				if v := resp.Header.Get("Vary"); !strings.EqualFold(v, "Accept-Encoding") {
					t.Errorf("GET %s (%s): Vary %q, want Accept-Encoding", asset, enc, v)
				}
				if !bytes.Equal(body, want) {
					t.Fatalf("GET %s (%s): %d bytes unlike the node's %d", asset, enc, len(body), len(want))
				}
			}
			if enc == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(want))
				if err != nil {
					t.Fatal(err)
				}
				if b, err := io.ReadAll(zr); err != nil || !bytes.Equal(b, plain) {
					t.Fatalf("the gzip variant does not decode to the file: %v", err)
				}
			}
		}
		// Each encoding kept beside the others.
		if resp, _ := fetch(t, hc, edge+asset); cacheStatus(resp) != "HIT" || resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("GET %s (plain) again: X-Cache-Status %q, Content-Encoding %q; want HIT, none", asset, cacheStatus(resp), resp.Header.Get("Content-Encoding"))
		}
	})

	t.Run("websocket", func(t *testing.T) {
		before := [2]int{deflateFrames(t, hc, nodes[0]), deflateFrames(t, hc, nodes[1])}
		d := websocket.Dialer{EnableCompression: true}
		wsURL := "ws" + strings.TrimPrefix(edge, "http") + "/ws"
		// nginx takes turns between the nodes: a connection or two reach
		// both.
		var conns [2]int
		for i := 0; conns[0] == 0 || conns[1] == 0; i++ {
			if i == 4 {
				t.Fatalf("4 connections through nginx, connections on the nodes: %v", conns)
			}
			c, resp, err := d.DialContext(context.Background(), wsURL, nil)
			if err != nil {
				t.Fatalf("dial %s: %v", wsURL, err)
			}
			t.Cleanup(func() { c.Close() })
			if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(ext, "permessage-deflate") {
				t.Fatalf("Sec-WebSocket-Extensions %q through nginx, want permessage-deflate", ext)
			}
			wsRoundTrip(t, c, fmt.Sprintf("edge.%d", i))
			for j, addr := range nodes {
				_, conns[j] = nodePing(t, hc, addr)
			}
		}
		for j, addr := range nodes {
			if n := deflateFrames(t, hc, addr); n <= before[j] {
				t.Errorf("node %s sent no compressed frame (%d before, %d after)", addr, before[j], n)
			}
		}
	})

	t.Run("ping", func(t *testing.T) {
		seen := map[string]bool{}
		for i := range 4 {
			resp, body := fetch(t, hc, edge+"/edge/ping")
			if resp.StatusCode != 200 || cacheStatus(resp) != "MISS" || resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("GET /edge/ping #%d: %s, X-Cache-Status %q, Cache-Control %q; want 200, MISS, no-store",
					i+1, resp.Status, cacheStatus(resp), resp.Header.Get("Cache-Control"))
			}
			var p struct{ Node string }
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatalf("/edge/ping: %s: %v", body, err)
			}
			seen[p.Node] = true
		}
		if !seen["edge-a"] || !seen["edge-b"] {
			t.Errorf("/edge/ping through nginx answered by %v, want edge-a and edge-b", seen)
		}
		if resp, _ := fetch(t, hc, edge+"/metrics"); resp.StatusCode != 403 {
			t.Errorf("GET /metrics through nginx: %s, want 403", resp.Status)
		}
	})
}

// TestNginxConfigInREADME checks that README's "Static files and CDNs"
// quotes testdata/nginx.conf as it is.
func TestNginxConfigInREADME(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(edgeConfig)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Static files and CDNs\n")
	if !ok {
		t.Fatal(`README has no "## Static files and CDNs"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "\n```nginx\n")
	if !ok {
		t.Fatal("README's \"Static files and CDNs\" has no ```nginx block")
	}
	block, _, ok = strings.Cut(block, "\n```\n")
	if !ok {
		t.Fatal("README's ```nginx block does not end")
	}
	if block+"\n" != string(conf) {
		t.Errorf("README's ```nginx block differs from %s: copy the file into it", edgeConfig)
	}
}

// TestFingerprintedNames checks the names pageAsset finds in a page.
func TestFingerprintedNames(t *testing.T) {
	t.Parallel()
	page := `<link rel="stylesheet" href="/app.0123456789.css">
<script type="module">import { Client } from "./wsgate.ace23df796.js";</script>
<script src=https://cdn.example.com/lib.abcdef0123.mjs></script>
<style>body { background: url(bg.0123456789.png) }</style>
<a href="/app.js">plain</a> <a href="/app.0123456789a.js">not a fingerprint</a>`
	want := []string{"/app.0123456789.css", "./wsgate.ace23df796.js", "https://cdn.example.com/lib.abcdef0123.mjs"}
	if got := fingerprinted.FindAllString(page, -1); !slices.Equal(got, want) {
		t.Errorf("found %q, want %q", got, want)
	}
}
