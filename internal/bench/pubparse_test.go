package bench

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
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
		{in: `{"ch":"bench","seq":2,"data":{"t":1.5}}`}, // not an int64: encoding/json rejects it
		{in: `{"ch":"bench","seq":2,"data":{"t":2e3}}`},
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

// FuzzParsePublication compares parsePublication with encoding/json on
// every input that is valid JSON with no member name twice in one object
// (encoding/json keeps the last of them, the fast path reads the first):
// both accept or both reject, with the same seq and t. Invalid JSON is
// only checked not to panic: the fast path does not look at what follows
// "t". The message fanout's encoder writes must parse on the fast path.
func FuzzParsePublication(f *testing.F) {
	f.Add([]byte(`{"ch":"bench","seq":42,"data":{"t":1700000000123456789,"n":5}}`), uint64(1), int64(2))
	f.Add([]byte(`{"ch":"x","data":{"t":1},"seq":2}`), uint64(0), int64(-1))
	f.Add([]byte(`{"ch":"\\\"","seq":1,"data":{"t":-5}}`), uint64(1<<63), int64(1<<62))
	f.Add([]byte(`{"ch":"x","seq":1,"data":{"t":1.5}}`), uint64(0), int64(0))
	f.Add([]byte(`{"ch":"x","seq":1,"data":{"t":2e3}}`), uint64(0), int64(0))
	f.Add([]byte(`{"ch":"x","seq":1,"data":{"t":-0}}`), uint64(0), int64(0))
	f.Add([]byte(`{"CH":"x","Seq":1,"data":{"T":3}}`), uint64(0), int64(0))
	f.Add([]byte(`{"ch":null,"seq":1,"data":{"t":3}}`), uint64(0), int64(0))
	f.Fuzz(func(t *testing.T, b []byte, seq uint64, ts int64) {
		gs, gt, ok := parsePublication(b)
		if json.Valid(b) && !repeatsName(b) {
			var p struct {
				Ch   *string
				Seq  uint64
				Data struct{ T *int64 }
			}
			wantOK := json.Unmarshal(b, &p) == nil && p.Ch != nil && p.Data.T != nil && bytes.HasPrefix(b, []byte(`{"ch":`))
			var wantSeq uint64
			var wantT int64
			if wantOK {
				wantSeq, wantT = p.Seq, *p.Data.T
			}
			if ok != wantOK || gs != wantSeq || gt != wantT {
				t.Fatalf("parsePublication(%s) = %d, %d, %v; encoding/json: %d, %d, %v", b, gs, gt, ok, wantSeq, wantT, wantOK)
			}
		}

		msg := []byte(`{"ch":"bench","seq":`)
		msg = strconv.AppendUint(msg, seq, 10)
		msg = append(msg, `,"data":{"t":`...)
		msg = strconv.AppendInt(msg, ts, 10)
		msg = append(msg, `,"n":1}}`...)
		if gs, gt, ok := scanPublication(msg[len(`{"ch":`):]); !ok || gs != seq || gt != ts {
			t.Fatalf("scanPublication(%s) = %d, %d, %v", msg, gs, gt, ok)
		}
	})
}

// repeatsName reports whether an object in the valid JSON b has two
// member names that encoding/json could match to one field (it ignores
// case, Unicode folding included).
func repeatsName(b []byte) bool {
	d := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		object bool
		names  []string
		key    bool // the next token of an object is a name
	}
	var stack []*frame
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if s, isString := tok.(string); isString && top != nil && top.object && top.key {
			for _, n := range top.names {
				if strings.EqualFold(n, s) {
					return true
				}
			}
			top.names = append(top.names, s)
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if top != nil && top.object {
				top.key = true
			}
			stack = append(stack, &frame{object: tok == json.Delim('{'), key: true})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			continue
		}
		if top != nil && top.object {
			top.key = true // a value: a name comes next
		}
	}
}

func BenchmarkParsePublication(b *testing.B) {
	b.ReportAllocs()
	msg := []byte(`{"ch":"bench","seq":42,"data":{"t":1700000000123456789,"n":5}}`)
	for b.Loop() {
		parsePublication(msg)
	}
}
