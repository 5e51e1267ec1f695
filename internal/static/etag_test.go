package static

import "testing"

func TestNoneMatch(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		field string
		match bool
	}{
		{`"a"`, true},
		{`W/"a"`, true},
		{` "b" ,	"a" `, true},
		{`*`, true},
		{`"b", *`, true},
		{`"b"`, false},
		{`"A"`, false},
		{``, false},
		{`a`, false},
		{`"a`, false},
		{`w/"a"`, false},
		{`"b""a"`, false},
		{`"b" "a"`, false},
		{"\"\x01\", \"a\"", false},
		{`,,"a"`, true},
	} {
		if got := noneMatch(tt.field, `"a"`); got != tt.match {
			t.Errorf("noneMatch(%q) = %v", tt.field, got)
		}
	}
}
