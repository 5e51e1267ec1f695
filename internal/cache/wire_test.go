package cache

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestInvalidationWire(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		node string
		inv  Invalidation
		wire string
	}{
		{"one call", "n1", Invalidation{Method: "market.history", Args: json.RawMessage(`{"points":5,"symbol":"ACME"}`)},
			`{"node":"n1","inv":{"method":"market.history","args":{"points":5,"symbol":"ACME"}}}`},
		{"call without args", "n1", Invalidation{Method: "market.symbols", Args: json.RawMessage(`null`)},
			`{"node":"n1","inv":{"method":"market.symbols","args":null}}`},
		{"method", "n2", Invalidation{Method: "market.history"}, `{"node":"n2","inv":{"method":"market.history"}}`},
		{"prefix", "n2", Invalidation{Prefix: "market."}, `{"node":"n2","inv":{"prefix":"market."}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := EncodeInvalidation(tt.node, tt.inv)
			if err != nil || string(b) != tt.wire {
				t.Fatalf("EncodeInvalidation: %s, %v; want %s", b, err, tt.wire)
			}
			node, inv, err := DecodeInvalidation(b)
			if err != nil || node != tt.node || !sameInvalidation(t, inv, tt.inv) {
				t.Fatalf("DecodeInvalidation: %q %+v %v; want %q %+v", node, inv, err, tt.node, tt.inv)
			}
		})
	}
}

func TestDecodeInvalidationErrors(t *testing.T) {
	t.Parallel()
	for _, msg := range []string{
		``,
		`null`,
		`[]`,
		`{"node":"n1","inv":`,
		`{"inv":{"method":"m"}}`,
		`{"node":"","inv":{"method":"m"}}`,
		`{"node":7,"inv":{"method":"m"}}`,
		`{"node":"n1","inv":{"method":7}}`,
		`{"node":"n1","inv":[]}`,
		`{"node":"n1"} x`,
	} {
		if node, inv, err := DecodeInvalidation([]byte(msg)); err == nil {
			t.Errorf("%s: %q %+v, want an error", msg, node, inv)
		}
	}
}

func TestEncodeInvalidationBadArgs(t *testing.T) {
	t.Parallel()
	if b, err := EncodeInvalidation("n1", Invalidation{Method: "m", Args: json.RawMessage(`{`)}); err == nil {
		t.Fatalf("EncodeInvalidation: %s, want an error", b)
	}
}

// FuzzInvalidationWire checks that DecodeInvalidation reads back what
// EncodeInvalidation made (args may come back in another spelling of the
// same JSON, since encoding/json compacts and escapes raw values), and
// that a message DecodeInvalidation accepts encodes and decodes again
// unchanged.
func FuzzInvalidationWire(f *testing.F) {
	f.Add("n1", "market.history", `{"symbol":"ACME"}`, "", []byte(`{"node":"n1","inv":{"prefix":"market."}}`))
	f.Add("n2", "market.symbols", `null`, "", []byte(`{"node":"n2","inv":{"method":"m","args":[1, "<\u00e9>"]}}`))
	f.Add("n3", "", "", "orders.", []byte(`{"node":"\u0000","inv":{}}`))
	f.Fuzz(func(t *testing.T, node, method, args, prefix string, msg []byte) {
		inv := Invalidation{Method: method, Prefix: prefix}
		if args != "" {
			inv.Args = json.RawMessage(args)
		}
		b, err := EncodeInvalidation(node, inv)
		if (err != nil) != (args != "" && !json.Valid([]byte(args))) {
			t.Fatalf("EncodeInvalidation(%q, %+v): %v", node, inv, err)
		}
		// Strings that are not valid UTF-8 come back with U+FFFD.
		if err == nil && node != "" && utf8.ValidString(node) && utf8.ValidString(method) && utf8.ValidString(prefix) {
			n, got, err := DecodeInvalidation(b)
			if err != nil || n != node || !sameInvalidation(t, got, inv) {
				t.Fatalf("%s: decoded %q %+v %v; want %q %+v", b, n, got, err, node, inv)
			}
		}

		n, inv, err := DecodeInvalidation(msg)
		if err != nil {
			return
		}
		if n == "" {
			t.Fatalf("%s: decoded without a node", msg)
		}
		b, err = EncodeInvalidation(n, inv)
		if err != nil {
			t.Fatalf("%s: decoded %+v, which does not encode: %v", msg, inv, err)
		}
		n2, inv2, err := DecodeInvalidation(b)
		if err != nil || n2 != n || !sameInvalidation(t, inv2, inv) {
			t.Fatalf("%s: %s decodes to %q %+v %v, want %q %+v", msg, b, n2, inv2, err, n, inv)
		}
	})
}

// sameInvalidation reports whether a and b name the same entries: the
// same method and prefix, and args absent from both or the same JSON value
// however spelled.
func sameInvalidation(t *testing.T, a, b Invalidation) bool {
	t.Helper()
	if a.Method != b.Method || a.Prefix != b.Prefix || (a.Args == nil) != (b.Args == nil) {
		return false
	}
	if a.Args == nil {
		return true
	}
	ca, err := AppendCanonical(nil, a.Args)
	if err != nil {
		t.Fatalf("args %s: %v", a.Args, err)
	}
	cb, err := AppendCanonical(nil, b.Args)
	if err != nil {
		t.Fatalf("args %s: %v", b.Args, err)
	}
	return bytes.Equal(ca, cb)
}
