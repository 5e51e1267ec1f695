package envelope

import (
	"errors"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/internal/errcode"
)

// nested returns a JSON value of depth arrays (and objects every third
// level), with a string at the bottom.
func nested(depth int) string {
	var open, close strings.Builder
	for d := range depth {
		if d%3 == 2 {
			open.WriteString(`{"k":`)
			close.WriteString(`}`)
		} else {
			open.WriteString(`[`)
			close.WriteString(`]`)
		}
	}
	c := []byte(close.String())
	for i, j := 0, len(c)-1; i < j; i, j = i+1, j-1 {
		c[i], c[j] = c[j], c[i]
	}
	return open.String() + `"x"` + string(c)
}

func TestParseNesting(t *testing.T) {
	t.Parallel()
	deep := "nested deeper than 512 levels"
	tests := []struct {
		name   string
		in     string
		id     string // "" for none
		errMsg string // "" for success
	}{
		{"args at the limit", `{"id":1,"call":"m","args":` + nested(MaxNesting-1) + `}`, "1", ""},
		{"args one past", `{"id":1,"call":"m","args":` + nested(MaxNesting) + `}`, "1", deep},
		{"data far past", `{"id":"p","pub":"c","data":` + nested(20_000) + `}`, `"p"`, deep},
		{"id after the deep part", `{"call":"m","args":` + nested(600) + `,"id":7}`, "7", deep},
		{"id after a deep part cut short", `{"call":"m","args":` + nested(2000)[:3000], "", deep},
		{"no id", `{"call":"m","args":` + nested(1000) + `}`, "", deep},
		{"invalid id", `{"id":true,"call":"m","args":` + nested(1000) + `}`, "", deep},
		{"id too long", `{"id":"` + strings.Repeat("x", MaxIDLen) + `","args":` + nested(1000) + `}`, "", deep},
		{"deep and broken before", `{"id":1,"call":}` + nested(1000), "", "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := Parse([]byte(tt.in))
			if string(req.ID) != tt.id {
				t.Errorf("id %q, want %q", req.ID, tt.id)
			}
			if tt.errMsg == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != errcode.BadRequest || e.Message != tt.errMsg {
				t.Fatalf("Parse error %v, want bad_request %q", err, tt.errMsg)
			}
		})
	}
}

// FuzzLeadingID: on any input leadingID stays in bounds and returns
// either nothing or a valid id that appears in the input.
func FuzzLeadingID(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"call":"m"}`,
		`{"call":"m","args":[[[[{"a":"]"}]]]],"id":"x"}`,
		`{"args":[[[[`,
		`{"\u0069d":2}`,
		`{"id":"\ud800"}`,
		`{"a":"\"","id":-0.5e+7}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		id := leadingID(b)
		if id == nil {
			return
		}
		if !validID(id) || !strings.Contains(string(b), string(id)) {
			t.Fatalf("leadingID(%q) = %q", b, id)
		}
	})
}
