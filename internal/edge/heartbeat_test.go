package edge

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestHeartbeatRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []Heartbeat{
		{Node: Node{ID: "web1"}, TTL: time.Millisecond},
		{Node: Node{ID: "web1-3f9a2c", Region: "eu-west", URL: "https://eu1.example.com", Conns: 42, Load: 0.002}, TTL: 6 * time.Second},
		{Node: Node{ID: "w", Conns: maxConns, Load: 1, Draining: true}, Leaving: true, TTL: MaxTTL},
	}
	for _, h := range tests {
		b, err := AppendHeartbeat([]byte("x"), h)
		if err != nil {
			t.Fatalf("AppendHeartbeat(%+v): %v", h, err)
		}
		if b[0] != 'x' {
			t.Fatalf("AppendHeartbeat did not append: %q", b)
		}
		got, err := DecodeHeartbeat(b[1:])
		if err != nil || got != h {
			t.Errorf("DecodeHeartbeat(%s) = %+v, %v; want %+v", b[1:], got, err, h)
		}
	}
}

func TestAppendHeartbeatRefuses(t *testing.T) {
	t.Parallel()
	for _, h := range []Heartbeat{
		{Node: Node{ID: ""}, TTL: time.Second},
		{Node: Node{ID: "a", Load: 1.5}, TTL: time.Second},
		{Node: Node{ID: "a", Conns: -1}, TTL: time.Second},
		{Node: Node{ID: "a"}, TTL: 0},
		{Node: Node{ID: "a"}, TTL: MaxTTL + time.Millisecond},
	} {
		if b, err := AppendHeartbeat(nil, h); err == nil {
			t.Errorf("AppendHeartbeat(%+v) = %s, want an error", h, b)
		}
	}
}

func TestDecodeHeartbeatRejects(t *testing.T) {
	t.Parallel()
	const ok = `"node":"web1","load":0,"ttl":6000`
	tests := []struct{ name, in string }{
		{"empty", ``},
		{"null", `null`},
		{"array", `[{` + ok + `}]`},
		{"string", `"web1"`},
		{"truncated", `{` + ok},
		{"trailing data", `{` + ok + `} {}`},
		{"no node", `{"load":0,"ttl":6000}`},
		{"no ttl", `{"node":"web1","load":0}`},
		{"no load", `{"node":"web1","ttl":6000}`},
		{"null load", `{"node":"web1","load":null,"ttl":6000}`},
		{"bad node", `{"node":"web 1","load":0,"ttl":6000}`},
		{"node not a string", `{"node":1,"load":0,"ttl":6000}`},
		{"bad region", `{` + ok + `,"region":"eu\nwest"}`},
		{"bad url", `{` + ok + `,"url":"javascript:alert(1)"}`},
		{"negative conns", `{` + ok + `,"conns":-1}`},
		{"huge conns", `{` + ok + `,"conns":2147483648}`},
		{"fractional conns", `{` + ok + `,"conns":1.5}`},
		{"conns overflow", `{` + ok + `,"conns":99999999999999999999}`},
		{"load over 1", `{"node":"web1","load":1.01,"ttl":6000}`},
		{"negative load", `{"node":"web1","load":-0.1,"ttl":6000}`},
		{"zero ttl", `{"node":"web1","load":0,"ttl":0}`},
		{"ttl too long", `{"node":"web1","load":0,"ttl":60001}`},
		{"draining not a bool", `{` + ok + `,"draining":"yes"}`},
		{"too large", `{` + ok + `,"pad":"` + strings.Repeat("a", MaxHeartbeatSize) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := DecodeHeartbeat([]byte(tt.in))
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("DecodeHeartbeat(%.60q) = %+v, %v; want ErrMalformed", tt.in, h, err)
			}
		})
	}
}

func TestDecodeHeartbeatIgnoresUnknownFields(t *testing.T) {
	t.Parallel()
	h, err := DecodeHeartbeat([]byte(`{"node":"web1","load":0.5,"ttl":6000,"zone":"b","weight":3}`))
	if err != nil || h.ID != "web1" || h.Load != 0.5 {
		t.Errorf("DecodeHeartbeat = %+v, %v", h, err)
	}
}

func FuzzDecodeHeartbeat(f *testing.F) {
	f.Add([]byte(`{"node":"web1-3f9a2c","region":"eu-west","url":"https://eu1.example.com","conns":42,"load":0.002,"draining":false,"leaving":false,"ttl":6000}`))
	f.Add([]byte(`{"node":"w","load":1,"leaving":true,"ttl":1}`))
	f.Add([]byte(`{"node":"w","load":0,"ttl":6000,"conns":1e3}`))
	f.Add([]byte(`{"NODE":"w","Load":0,"TTL":5,"url":"http://[::1]:80/a"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := DecodeHeartbeat(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		b, err := AppendHeartbeat(nil, h)
		if err != nil {
			t.Fatalf("a decoded heartbeat %+v does not encode: %v", h, err)
		}
		again, err := DecodeHeartbeat(b)
		if err != nil || again != h {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, h)
		}
	})
}
