package envelope

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestMarshal(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		v    any
		want string
		err  error
	}{
		{"value", map[string]int{"a": 1}, `{"a":1}`, nil},
		{"nil", nil, `null`, nil},
		{"raw", json.RawMessage(`[1, 2]`), `[1, 2]`, nil},
		{"bytes", []byte(`"x"`), `"x"`, nil},
		{"nil raw", json.RawMessage(nil), `null`, nil},
		{"bad raw", json.RawMessage(`{`), "", ErrInvalidRaw},
		{"bad bytes", []byte(`nope`), "", ErrInvalidRaw},
	} {
		got, err := Marshal(tt.v)
		if !errors.Is(err, tt.err) || string(got) != tt.want {
			t.Errorf("%s: Marshal = %s, %v; want %s, %v", tt.name, got, err, tt.want, tt.err)
		}
	}
}
