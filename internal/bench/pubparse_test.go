package bench

import (
	"strconv"
	"testing"
)

func TestParsePublication(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		seq    uint64
		t      int64
		wantOK bool
	}{
		{in: `{"ch":"bench","seq":42,"data":{"t":1700000000123456789,"n":5}}`, seq: 42, t: 1700000000123456789, wantOK: true},
		{in: `{"ch":"a\"b\\","seq":1,"data":{"t":7}}`, seq: 1, t: 7, wantOK: true},
		{in: `{"ch":"bench","seq":3,"data": { "t": 9 ,"p":"xx"}}`, seq: 3, t: 9, wantOK: true},
		// Another member order: the encoding/json fallback.
		{in: `{"ch":"bench","data":{"n":1,"t":11},"seq":8}`, seq: 8, t: 11, wantOK: true},
		{in: `{"id":1,"result":{"seq":4,"epoch":"e"}}`},
		{in: `{"ch":"ticks","seq":2,"data":{"symbol":"ACME"}}`},
		{in: `{"ch":"bench","seq":2,"data":{"t":"soon"}}`},
		{in: `{"ch":"bench","seq":`},
		{in: `{"ch":"unterminated`},
		{in: ``},
	}
	for _, tt := range tests {
		seq, ts, ok := parsePublication([]byte(tt.in))
		if ok != tt.wantOK || seq != tt.seq || ts != tt.t {
			t.Errorf("parsePublication(%s) = %d, %d, %v; want %d, %d, %v", tt.in, seq, ts, ok, tt.seq, tt.t, tt.wantOK)
		}
	}
}

// FuzzParsePublication checks that the parser never panics and that
// the fast path reads what fanout's encoder writes.
func FuzzParsePublication(f *testing.F) {
	f.Add([]byte(`{"ch":"bench","seq":42,"data":{"t":1700000000123456789,"n":5}}`), uint64(1), int64(2))
	f.Add([]byte(`{"ch":"x","data":{"t":1},"seq":2}`), uint64(0), int64(-1))
	f.Add([]byte(`{"ch":"\\\"","seq":1,"data":{"t":-5}}`), uint64(1<<63), int64(1<<62))
	f.Fuzz(func(t *testing.T, b []byte, seq uint64, ts int64) {
		parsePublication(b) // must not panic
		msg := []byte(`{"ch":"bench","seq":`)
		msg = strconv.AppendUint(msg, seq, 10)
		msg = append(msg, `,"data":{"t":`...)
		msg = strconv.AppendInt(msg, ts, 10)
		msg = append(msg, `,"n":1}}`...)
		gs, gt, ok := parsePublication(msg)
		if !ok || gs != seq || gt != ts {
			t.Fatalf("parsePublication(%s) = %d, %d, %v", msg, gs, gt, ok)
		}
	})
}

func BenchmarkParsePublication(b *testing.B) {
	b.ReportAllocs()
	msg := []byte(`{"ch":"bench","seq":42,"data":{"t":1700000000123456789,"n":5}}`)
	for b.Loop() {
		parsePublication(msg)
	}
}
