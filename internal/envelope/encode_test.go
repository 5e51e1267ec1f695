package envelope

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// nasty are strings that need care when written as JSON.
var nasty = []string{
	"",
	"plain",
	`quote " and backslash \`,
	"controls \x00\x01\x07\b\t\n\v\f\r\x1b\x1f\x7f",
	"line separators \u2028 and \u2029",
	"</script><!-- & -->",
	"unicode é ü 日本 🚀",
	"invalid \xff\xfe utf-8 \xc3",
	"truncated rune \xe2\x82",
	"surrogate half \xed\xa0\x80",
	"\xf4\x90\x80\x80 beyond U+10FFFF",
	strings.Repeat("x\n", 100),
}

func TestAppendString(t *testing.T) {
	t.Parallel()
	for _, s := range nasty {
		got := AppendString(nil, s)
		if !json.Valid(got) {
			t.Fatalf("AppendString(%q) = %s, not valid JSON", s, got)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		// encoding/json also replaces invalid UTF-8 with U+FFFD, byte by byte.
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("AppendString(%q) decodes to %q, want %q", s, back, wantBack)
		}
		if strings.ContainsAny(string(got), "\u2028\u2029") {
			t.Errorf("AppendString(%q) = %s, holds a raw line separator", s, got)
		}
		for _, c := range got {
			if c < 0x20 {
				t.Errorf("AppendString(%q) = %q, holds a raw control byte", s, got)
				break
			}
		}
	}
}

func TestAppendStringExact(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", `""`},
		{"a\"b\\c", `"a\"b\\c"`},
		{"\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"\x00\x1f", `"\u0000\u001f"`},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"a\xffb", `"a\ufffdb"`},
		{"é", `"é"`},
		{"<&>", `"<&>"`},
	}
	for _, tt := range tests {
		if got := string(AppendString(nil, tt.in)); got != tt.want {
			t.Errorf("AppendString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestAppendReplies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"result", AppendResult(nil, raw(`1`), raw(`{"a":1}`)), `{"id":1,"result":{"a":1}}`},
		{"result string id", AppendResult(nil, raw(`"x"`), raw(`[1]`)), `{"id":"x","result":[1]}`},
		{"result no id", AppendResult(nil, nil, raw(`2`)), `{"result":2}`},
		{"result nil", AppendResult(nil, raw(`4`), nil), `{"id":4,"result":{}}`},
		{"result appends", AppendResult([]byte("x"), nil, nil), `x{"result":{}}`},
		{"result head", AppendResultHead(nil, raw(`7`)), `{"id":7,"result":`},
		{"result head no id", AppendResultHead([]byte("x"), nil), `x{"result":`},
		{"result head longest id", AppendResultHead(nil, raw(`"`+strings.Repeat("i", MaxIDLen-2)+`"`)), `{"id":"` + strings.Repeat("i", MaxIDLen-2) + `","result":`},
		{"error", AppendError(nil, raw(`1`), "not_found", `no method "x"`),
			`{"id":1,"error":{"code":"not_found","message":"no method \"x\""}}`},
		{"error no id", AppendError(nil, nil, "bad_request", "invalid JSON"),
			`{"error":{"code":"bad_request","message":"invalid JSON"}}`},
		{"publication", AppendPublication(nil, "ticks", 42, "e1", raw(`{"p":1.5}`)), `{"ch":"ticks","seq":42,"data":{"p":1.5},"epoch":"e1"}`},
		{"publication without epoch", AppendPublication(nil, "ticks", 0, "", raw(`{"p":1.5}`)), `{"ch":"ticks","seq":0,"data":{"p":1.5}}`},
		{"publication nil data", AppendPublication(nil, "t", 0, "", nil), `{"ch":"t","seq":0,"data":null}`},
		{"publication max seq", AppendPublication(nil, "t", 1<<64-1, "9f", raw(`1`)), `{"ch":"t","seq":18446744073709551615,"data":1,"epoch":"9f"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if strings.HasPrefix(tt.name, "result head") && len(tt.got) > MaxResultHead+1 {
				t.Errorf("%d bytes, over MaxResultHead", len(tt.got))
			}
			if string(tt.got) != tt.want {
				t.Errorf("got %s, want %s", tt.got, tt.want)
			}
		})
	}
}

func TestAppendRoundTrip(t *testing.T) {
	t.Parallel()
	type errorReply struct {
		ID    json.RawMessage `json:"id"`
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	type pub struct {
		Ch    string          `json:"ch"`
		Seq   uint64          `json:"seq"`
		Data  json.RawMessage `json:"data"`
		Epoch string          `json:"epoch"`
	}
	for _, s := range nasty {
		var wantS string
		m, _ := json.Marshal(s)
		_ = json.Unmarshal(m, &wantS)

		b := AppendError(nil, raw(`"id"`), s, s)
		var e errorReply
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("AppendError(%q): %s: %v", s, b, err)
		}
		if string(e.ID) != `"id"` || e.Error.Code != wantS || e.Error.Message != wantS {
			t.Errorf("AppendError(%q) decodes to %+v", s, e)
		}

		b = AppendPublication(nil, s, 7, s, raw(`[true]`))
		var p pub
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("AppendPublication(%q): %s: %v", s, b, err)
		}
		if want := (pub{wantS, 7, raw(`[true]`), wantS}); !reflect.DeepEqual(p, want) {
			t.Errorf("AppendPublication(%q) decodes to %+v, want %+v", s, p, want)
		}
	}
}

// TestAppendNoAllocs is not parallel: AllocsPerRun refuses parallel tests.
func TestAppendNoAllocs(t *testing.T) {
	buf := make([]byte, 0, 1024)
	id, data := raw(`12345`), raw(`{"symbol":"ACME","price":123.45}`)
	n := testing.AllocsPerRun(100, func() {
		b := AppendResult(buf[:0], id, data)
		b = AppendError(b, id, "not_found", "no such \"method\"\n\u2028\xff")
		_ = AppendPublication(b, "ticks", 42, "5e0c3b1a9d2f4e67", data)
	})
	if n != 0 {
		t.Errorf("Append functions allocate %v times with room in dst, want 0", n)
	}
}
