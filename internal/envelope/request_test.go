package envelope

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/internal/errcode"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Request
	}{
		{"call", `{"id":1,"call":"market.history","args":{"symbol":"ACME"}}`,
			Request{ID: raw(`1`), Kind: KindCall, Method: "market.history", Args: raw(`{"symbol":"ACME"}`)}},
		{"call without args", `{"id":1,"call":"market.symbols"}`,
			Request{ID: raw(`1`), Kind: KindCall, Method: "market.symbols"}},
		{"call with null args", `{"id":1,"call":"m","args":null}`,
			Request{ID: raw(`1`), Kind: KindCall, Method: "m"}},
		{"args of any type", `{"call":"m","args":[1,"two",{"3":[]}]}`,
			Request{Kind: KindCall, Method: "m", Args: raw(`[1,"two",{"3":[]}]`)}},
		{"sub", `{"id":2,"sub":"ticks"}`,
			Request{ID: raw(`2`), Kind: KindSub, Channel: "ticks"}},
		{"sub since", `{"id":5,"sub":"ticks","since":{"seq":41,"epoch":"e1"}}`,
			Request{ID: raw(`5`), Kind: KindSub, Channel: "ticks", Since: &Position{Seq: 41, Epoch: "e1"}}},
		{"since without epoch", `{"sub":"t","since":{"seq":0}}`,
			Request{Kind: KindSub, Channel: "t", Since: &Position{}}},
		{"since with empty epoch", `{"sub":"t","since":{"epoch":"","seq":18446744073709551615}}`,
			Request{Kind: KindSub, Channel: "t", Since: &Position{Seq: 1<<64 - 1}}},
		{"since null", `{"sub":"t","since":null}`, Request{Kind: KindSub, Channel: "t"}},
		{"since unknown fields", `{"sub":"t","since":{"seq":1,"x":[{}]}}`,
			Request{Kind: KindSub, Channel: "t", Since: &Position{Seq: 1}}},
		{"since escaped epoch", `{"sub":"t","since":{"seq":1,"epoch":"a\"b\u00e9"}}`,
			Request{Kind: KindSub, Channel: "t", Since: &Position{Seq: 1, Epoch: "a\"bé"}}},
		{"pub", `{"id":3,"pub":"chat","data":{"text":"hi"}}`,
			Request{ID: raw(`3`), Kind: KindPub, Channel: "chat", Data: raw(`{"text":"hi"}`)}},
		{"pub null data", `{"pub":"chat","data":null}`,
			Request{Kind: KindPub, Channel: "chat", Data: raw(`null`)}},
		{"unsub", `{"id":4,"unsub":"ticks"}`,
			Request{ID: raw(`4`), Kind: KindUnsub, Channel: "ticks"}},
		{"no id", `{"sub":"ticks"}`, Request{Kind: KindSub, Channel: "ticks"}},
		{"auth", `{"auth":"aGVhZA.Ym9keQ.c2ln"}`, Request{Kind: KindAuth, Token: "aGVhZA.Ym9keQ.c2ln"}},
		{"auth with id", `{"id":7,"auth":"t","x":1}`, Request{ID: raw(`7`), Kind: KindAuth, Token: "t"}},
		{"string id", `{"id":"a\"b","sub":"t"}`, Request{ID: raw(`"a\"b"`), Kind: KindSub, Channel: "t"}},
		{"number ids", `{"id":-1.5e3,"sub":"t"}`, Request{ID: raw(`-1.5e3`), Kind: KindSub, Channel: "t"}},
		{"id of 64 bytes", `{"id":"` + strings.Repeat("x", 62) + `","sub":"t"}`,
			Request{ID: raw(`"` + strings.Repeat("x", 62) + `"`), Kind: KindSub, Channel: "t"}},
		{"whitespace", " \t\r\n{ \"id\" : 7 ,\n\"sub\" :\t\"t\" } \n",
			Request{ID: raw(`7`), Kind: KindSub, Channel: "t"}},
		{"unknown fields ignored", `{"x":{"call":"a","sub":"b"},"sub":"t","y":[1,{"id":2}],"z":true,"w":null}`,
			Request{Kind: KindSub, Channel: "t"}},
		{"case-sensitive names", `{"Call":"x","SUB":"y","sub":"t","ID":9}`,
			Request{Kind: KindSub, Channel: "t"}},
		{"invalid UTF-8 in epoch replaced", "{\"sub\":\"t\",\"since\":{\"seq\":1,\"epoch\":\"a\xffb\"}}",
			Request{Kind: KindSub, Channel: "t", Since: &Position{Seq: 1, Epoch: "a\ufffdb"}}},
		{"escaped key and name", `{"\u0073ub":"t\u002fx"}`, Request{Kind: KindSub, Channel: "t/x"}},
		{"name charset", `{"call":"a-b_c.d:e/F9"}`, Request{Kind: KindCall, Method: "a-b_c.d:e/F9"}},
		{"strings with braces", `{"x":"}{\\\"][","call":"m","args":{"a":"}"}}`,
			Request{Kind: KindCall, Method: "m", Args: raw(`{"a":"}"}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse(%s): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse(%s)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("9", MaxIDLen+1)
	tests := []struct {
		name   string
		in     string
		wantID string // "" when no ID comes back
		msg    string // a substring of the error message
	}{
		{"empty", ``, "", "invalid JSON"},
		{"garbage", `hello`, "", "invalid JSON"},
		{"trailing garbage", `{"id":1,"sub":"t"} x`, "", "invalid JSON"},
		{"two objects", `{"id":1,"sub":"t"}{"id":2,"sub":"t"}`, "", "invalid JSON"},
		{"truncated", `{"id":1,"sub":"t"`, "", "invalid JSON"},
		{"array", `[{"id":1,"sub":"t"}]`, "", "not a JSON object"},
		{"string", `"sub"`, "", "not a JSON object"},
		{"null", `null`, "", "not a JSON object"},
		{"empty object", `{}`, "", "missing call, sub, unsub, pub or auth"},
		{"only id", `{"id":1}`, "1", "missing call"},
		{"two kinds", `{"id":1,"sub":"a","unsub":"a"}`, "1", "more than one"},
		{"call and pub", `{"id":1,"call":"a","pub":"a","data":1}`, "1", "more than one"},
		{"id null", `{"id":null,"sub":"t"}`, "", "id must be a number or a string"},
		{"id object", `{"id":{},"sub":"t"}`, "", "id must be"},
		{"id bool", `{"id":true,"sub":"t"}`, "", "id must be"},
		{"id too long", `{"id":` + long + `,"sub":"t"}`, "", "id is longer than 64 bytes"},
		{"duplicate id", `{"id":1,"id":2,"sub":"t"}`, "", `duplicate field "id"`},
		{"duplicate kind", `{"id":1,"sub":"a","sub":"b"}`, "1", `duplicate field "sub"`},
		{"duplicate args", `{"id":1,"call":"a","args":1,"args":2}`, "1", `duplicate field "args"`},
		{"id after error", `{"call":5,"id":"x"}`, `"x"`, "call must be a string"},
		{"name not string", `{"id":1,"sub":["t"]}`, "1", "sub must be a string"},
		{"name null", `{"id":1,"unsub":null}`, "1", "unsub must be a string"},
		{"name empty", `{"id":1,"sub":""}`, "1", "invalid sub name"},
		{"name leading slash", `{"id":1,"call":"/etc"}`, "1", "invalid call name"},
		{"name dot-dot", `{"id":1,"call":"a/../b"}`, "1", "invalid call name"},
		{"name space", `{"id":1,"pub":"a b","data":1}`, "1", "invalid pub name"},
		{"name too long", `{"id":1,"sub":"` + strings.Repeat("a", MaxNameLen+1) + `"}`, "1", "invalid sub name"},
		{"name escaped bad", `{"id":1,"sub":"a\u0000"}`, "1", "invalid sub name"},
		{"pub without data", `{"id":1,"pub":"chat"}`, "1", "pub requires data"},
		{"args with sub", `{"id":1,"sub":"t","args":{}}`, "1", "args is only valid with call"},
		{"data with call", `{"id":1,"call":"m","data":{}}`, "1", "data is only valid with pub"},
		{"since with unsub", `{"id":1,"unsub":"t","since":{"seq":1}}`, "1", "since is only valid with sub"},
		{"since not object", `{"id":1,"sub":"t","since":41}`, "1", "since must be an object"},
		{"since without seq", `{"id":1,"sub":"t","since":{"epoch":"e"}}`, "1", "since requires seq"},
		{"since seq negative", `{"id":1,"sub":"t","since":{"seq":-1}}`, "1", "since.seq must be"},
		{"since seq fraction", `{"id":1,"sub":"t","since":{"seq":1.0}}`, "1", "since.seq must be"},
		{"since seq exponent", `{"id":1,"sub":"t","since":{"seq":1e3}}`, "1", "since.seq must be"},
		{"since seq string", `{"id":1,"sub":"t","since":{"seq":"1"}}`, "1", "since.seq must be"},
		{"since seq overflow", `{"id":1,"sub":"t","since":{"seq":18446744073709551616}}`, "1", "since.seq must be"},
		{"since epoch number", `{"id":1,"sub":"t","since":{"seq":1,"epoch":1}}`, "1", "since.epoch must be a string"},
		{"auth empty", `{"id":1,"auth":""}`, "1", "auth must be a token of 1 to 8192 bytes"},
		{"auth too long", `{"id":1,"auth":"` + strings.Repeat("a", MaxTokenLen+1) + `"}`, "1", "auth must be a token"},
		{"auth not string", `{"id":1,"auth":{"token":"t"}}`, "1", "auth must be a string"},
		{"auth and call", `{"id":1,"auth":"t","call":"m"}`, "1", "more than one"},
		{"auth with args", `{"id":1,"auth":"t","args":null}`, "1", "not valid with auth"},
		{"since duplicate seq", `{"id":1,"sub":"t","since":{"seq":1,"seq":2}}`, "1", `duplicate field "since.seq"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(tt.in))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%s) = %+v, %v; want an *Error", tt.in, got, err)
			}
			if e.Code != errcode.BadRequest {
				t.Errorf("Code = %q, want %q", e.Code, errcode.BadRequest)
			}
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("Message = %q, want it to contain %q", e.Message, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "envelope: bad_request: ") {
				t.Errorf("Error() = %q, want the package and code prefix", err.Error())
			}
			if string(got.ID) != tt.wantID {
				t.Errorf("ID = %q, want %q", got.ID, tt.wantID)
			}
		})
	}
}

func TestValidName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"ticks", true},
		{"market.history", true},
		{"a", true},
		{"A-Z_a-z.0-9:x", true},
		{"room/42/chat", true},
		{"..a", true},
		{"a..", true},
		{"a/.b", true},
		{strings.Repeat("x", MaxNameLen), true},
		{"", false},
		{strings.Repeat("x", MaxNameLen+1), false},
		{"/a", false},
		{"a/", false},
		{"a//b", false},
		{".", false},
		{"..", false},
		{"a/./b", false},
		{"a/..", false},
		{"../a", false},
		{"a b", false},
		{"a?b", false},
		{"a#b", false},
		{"a%2e", false},
		{"a\\b", false},
		{"é", false},
		{"a\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := ValidName(tt.in); got != tt.want {
				t.Errorf("ValidName(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		k    Kind
		want string
	}{
		{KindCall, "call"}, {KindSub, "sub"}, {KindUnsub, "unsub"}, {KindPub, "pub"}, {0, "Kind(0)"}, {9, "Kind(9)"},
	}
	for _, tt := range tests {
		if got := tt.k.String(); got != tt.want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(tt.k), got, tt.want)
		}
	}
}

func raw(s string) []byte { return []byte(s) }
