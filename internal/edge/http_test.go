package edge

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHandlers(t *testing.T) {
	t.Parallel()
	r, err := New(Options{
		Self:   Node{ID: "web1", Region: "eu-west", URL: "https://eu1.example.com"},
		Status: func() Status { return Status{Conns: 42, Load: 0.042} },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tests := []struct {
		name, method string
		h            http.Handler
		code         int
		cache        string // Cache-Control
		body         string
	}{
		{"ping", "GET", r.PingHandler(), 200, "no-store", `{"node":"web1","region":"eu-west","conns":42,"draining":false}` + "\n"},
		{"ping HEAD", "HEAD", r.PingHandler(), 200, "no-store", `{"node":"web1","region":"eu-west","conns":42,"draining":false}` + "\n"}, // net/http sends no body for HEAD
		{"nodes", "GET", r.NodesHandler(), 200, "max-age=5", `[{"node":"web1","region":"eu-west","url":"https://eu1.example.com","conns":42,"load":0.042,"draining":false}]` + "\n"},
		{"ping preflight", "OPTIONS", r.PingHandler(), 204, "", ""},
		{"nodes preflight", "OPTIONS", r.NodesHandler(), 204, "", ""},
		{"ping POST", "POST", r.PingHandler(), 405, "", "method not allowed\n"},
		{"nodes DELETE", "DELETE", r.NodesHandler(), 405, "", "method not allowed\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			tt.h.ServeHTTP(w, httptest.NewRequest(tt.method, "/edge/x", nil))
			res := w.Result()
			if res.StatusCode != tt.code || w.Body.String() != tt.body {
				t.Errorf("%d %q, want %d %q", res.StatusCode, w.Body.String(), tt.code, tt.body)
			}
			if got := res.Header.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control %q, want %q", got, tt.cache)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Access-Control-Allow-Origin %q, want *", got)
			}
			if got := res.Header.Get("Timing-Allow-Origin"); got != "*" {
				t.Errorf("Timing-Allow-Origin %q, want *", got)
			}
			if tt.code == 200 {
				if got := res.Header.Get("Content-Type"); got != "application/json" {
					t.Errorf("Content-Type %q", got)
				}
				if tt.body != "" && !json.Valid(w.Body.Bytes()) {
					t.Errorf("body is not JSON: %q", w.Body.String())
				}
			}
			if tt.code == 204 && res.Header.Get("Access-Control-Allow-Methods") != "GET, HEAD" {
				t.Errorf("preflight allows %q", res.Header.Get("Access-Control-Allow-Methods"))
			}
			if tt.code == 405 && res.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
				t.Errorf("405 Allow %q", res.Header.Get("Allow"))
			}
		})
	}
}
