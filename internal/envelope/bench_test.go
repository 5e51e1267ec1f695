package envelope

import (
	"encoding/json"
	"testing"
)

func BenchmarkParse(b *testing.B) {
	cases := []struct{ name, in string }{
		{"call", `{"id":1,"call":"market.history","args":{"symbol":"ACME","points":500}}`},
		{"sub", `{"id":2,"sub":"ticks"}`},
		{"sub-since", `{"id":5,"sub":"ticks","since":{"seq":41,"epoch":"9f3a2c"}}`},
		{"pub-1KB", `{"id":3,"pub":"chat","data":{"text":` + string(AppendString(nil, string(make1K()))) + `}}`},
	}
	for _, c := range cases {
		in := []byte(c.in)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := Parse(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUnmarshalStruct is the baseline Parse is measured against: the
// same call request decoded by encoding/json into a struct.
func BenchmarkUnmarshalStruct(b *testing.B) {
	in := []byte(`{"id":1,"call":"market.history","args":{"symbol":"ACME","points":500}}`)
	var v struct {
		ID   json.RawMessage `json:"id"`
		Call *string         `json:"call"`
		Sub  *string         `json:"sub"`
		Args json.RawMessage `json:"args"`
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := json.Unmarshal(in, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendPublication(b *testing.B) {
	data := json.RawMessage(`{"symbol":"ACME","price":123.45,"ts":1700000000000}`)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendPublication(buf[:0], "ticks", 42, "5e0c3b1a9d2f4e67", data)
	}
}

func BenchmarkAppendError(b *testing.B) {
	buf := make([]byte, 0, 256)
	id := json.RawMessage(`17`)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendError(buf[:0], id, "not_found", `no method "market.histroy"`)
	}
}

func BenchmarkAppendString(b *testing.B) {
	s := string(make1K())
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}

// make1K returns 1 KiB of mostly plain ASCII text with a few characters
// that need escaping.
func make1K() []byte {
	b := make([]byte, 1024)
	for i := range b {
		b[i] = "abcdefghij klmnopqrstuvwxyz"[i%27]
	}
	b[100], b[500], b[900] = '\\', '"', '\n'
	return b
}
