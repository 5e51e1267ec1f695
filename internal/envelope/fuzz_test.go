package envelope

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"testing"

	"github.com/wsgate/wsgate/internal/errcode"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"call":"market.history","args":{"symbol":"ACME"}}`,
		`{"id":2,"sub":"ticks"}`,
		`{"id":5,"sub":"ticks","since":{"seq":41,"epoch":"e1"}}`,
		`{"id":3,"pub":"chat","data":{"text":"hi"}}`,
		`{"id":4,"unsub":"ticks"}`,
		`{"auth":"aGVhZA.Ym9keQ.c2ln"}`,
		`{"id":"a","auth":"\u0041","since":null}`,
		`{"id":"a\"b","sub":"t\u002fx","since":{"seq":0,"epoch":"\u00e9\ud83d\ude80"}}`,
		` {"x":[{"call":"y"}],"\u0063all":"m","args":null} `,
		`{"id":1,"id":2,"sub":"t"}`,
		`{"id":1e400,"sub":"t","since":{"seq":18446744073709551616}}`,
		`{"pub":"a/../b","data":"\ud800"}`,
		`{"sub":"t"} {}`,
		`[]`,
		`{`,
		"{\"sub\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := Parse(b)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != errcode.BadRequest || e.Message == "" {
				t.Fatalf("Parse(%q) error %v is not a bad_request *Error", b, err)
			}
			if req.ID != nil && (!json.Valid(req.ID) || len(req.ID) > MaxIDLen) {
				t.Fatalf("Parse(%q) returned an unusable ID %q with %v", b, req.ID, err)
			}
			if e.Message == "invalid JSON" {
				var v any
				if json.Unmarshal(b, &v) == nil {
					t.Fatalf("Parse(%q) says invalid JSON, encoding/json disagrees", b)
				}
			}
			return
		}
		checkAgainstStdlib(t, b, req)

		// Every reply built from the request's fields is valid JSON.
		for _, out := range [][]byte{
			AppendResult(nil, req.ID, req.Args),
			AppendError(nil, req.ID, string(errcode.BadRequest), string(b)),
			AppendPublication(nil, req.Channel, 1, req.Channel, req.Data),
		} {
			if !json.Valid(out) {
				t.Fatalf("reply built from Parse(%q) is invalid JSON: %s", b, out)
			}
		}

		// A request rebuilt from the fields parses back to the same fields.
		again := encodeRequest(req)
		if !json.Valid(again) {
			t.Fatalf("request rebuilt from Parse(%q) is invalid JSON: %s", b, again)
		}
		req2, err := Parse(again)
		if err != nil {
			t.Fatalf("Parse(%s) (rebuilt from %q): %v", again, b, err)
		}
		if !reflect.DeepEqual(req, req2) {
			t.Fatalf("round trip of %q through %s:\n got %+v since %+v\nwant %+v since %+v",
				b, again, req2, req2.Since, req, req.Since)
		}
	})
}

// checkAgainstStdlib compares a successful Parse with encoding/json.
func checkAgainstStdlib(t *testing.T, b []byte, req Request) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("Parse(%q) succeeded, encoding/json fails: %v", b, err)
	}
	if string(m["id"]) != string(req.ID) {
		t.Fatalf("Parse(%q).ID = %s, encoding/json reads %s", b, req.ID, m["id"])
	}
	var name string
	if err := json.Unmarshal(m[req.Kind.String()], &name); err != nil || name != req.Method+req.Channel+req.Token {
		t.Fatalf("Parse(%q) name %q, encoding/json reads %q (%v)", b, req.Method+req.Channel+req.Token, name, err)
	}
	n := 0
	for _, k := range []string{"call", "sub", "unsub", "pub", "auth"} {
		if _, ok := m[k]; ok {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("Parse(%q) succeeded with %d kinds", b, n)
	}
}

// encodeRequest writes req back in wire form.
func encodeRequest(req Request) []byte {
	b := []byte{'{'}
	if req.ID != nil {
		b = append(b, `"id":`...)
		b = append(b, req.ID...)
		b = append(b, ',')
	}
	b = AppendString(b, req.Kind.String())
	b = append(b, ':')
	b = AppendString(b, req.Method+req.Channel+req.Token)
	if req.Args != nil {
		b = append(b, `,"args":`...)
		b = append(b, req.Args...)
	}
	if req.Data != nil {
		b = append(b, `,"data":`...)
		b = append(b, req.Data...)
	}
	if req.Since != nil {
		b = append(b, `,"since":{"seq":`...)
		b = strconv.AppendUint(b, req.Since.Seq, 10)
		b = append(b, `,"epoch":`...)
		b = AppendString(b, req.Since.Epoch)
		b = append(b, '}')
	}
	return append(b, '}')
}
