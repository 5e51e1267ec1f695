package bench

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/klauspost/compress/flate"
)

// jsonMessage is the shape of a --payload json message.
type jsonMessage struct {
	Conn  string `json:"conn"`
	Seq   string `json:"seq"`
	Items []struct {
		ID     int     `json:"id"`
		Sym    string  `json:"sym"`
		Venue  string  `json:"venue"`
		Bid    float64 `json:"bid"`
		Ask    float64 `json:"ask"`
		Last   float64 `json:"last"`
		Vol    int     `json:"vol"`
		TS     int64   `json:"ts"`
		Halted bool    `json:"halted"`
	} `json:"items"`
	Note string `json:"note"`
}

func makeJSON(t *testing.T, n, id int, seq uint64) []byte {
	t.Helper()
	tm, err := newJSONTemplate(n)
	if err != nil {
		t.Fatal(err)
	}
	if tm.size() != n {
		t.Fatalf("template of %d bytes for size %d", tm.size(), n)
	}
	b := make([]byte, n)
	tm.fill(b, id, seq)
	return b
}

func TestJSONPayloadSizes(t *testing.T) {
	t.Parallel()
	sizes := []int{64, 1024, 4096, 4097, 65536, 1 << 20}
	for n := MinJSONSize; n < 700; n++ {
		sizes = append(sizes, n)
	}
	for _, n := range sizes {
		for _, seq := range []uint64{0, 1, 999_999_999_999, 1 << 50} {
			b := makeJSON(t, n, 7, seq)
			if len(b) != n {
				t.Fatalf("size %d: got %d bytes", n, len(b))
			}
			var m jsonMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("size %d seq %d: not JSON: %v\n%s", n, seq, err, b)
			}
			if m.Conn != "000007" || len(m.Seq) != seqDigits {
				t.Fatalf("size %d seq %d: conn %q seq %q", n, seq, m.Conn, m.Seq)
			}
			for _, it := range m.Items {
				if it.Bid < 100 || it.Bid >= 1000 || it.Vol < 100000 || it.Vol > 999999 || it.TS < 1_764_000_000_000 || it.Sym == "" {
					t.Fatalf("size %d: record out of range: %+v", n, it)
				}
			}
			if n >= 4096 && len(m.Items) < 15 {
				t.Fatalf("size %d: only %d records", n, len(m.Items))
			}
		}
	}
}

func TestJSONPayloadTooSmall(t *testing.T) {
	t.Parallel()
	if _, err := newJSONTemplate(MinJSONSize - 1); err == nil {
		t.Fatalf("size %d accepted", MinJSONSize-1)
	}
}

// TestJSONPayloadVaries checks that messages differ by sequence number
// and connection, in many bytes, and that the same pair gives the same
// message.
func TestJSONPayloadVaries(t *testing.T) {
	t.Parallel()
	const n = 4096
	a, again := makeJSON(t, n, 3, 10), makeJSON(t, n, 3, 10)
	if !bytes.Equal(a, again) {
		t.Fatal("same conn and seq gave different messages")
	}
	for _, other := range [][]byte{makeJSON(t, n, 3, 11), makeJSON(t, n, 4, 10)} {
		diff := 0
		for i := range a {
			if a[i] != other[i] {
				diff++
			}
		}
		if diff < n/32 {
			t.Errorf("only %d of %d bytes differ", diff, n)
		}
	}
}

// TestJSONPayloadCompresses checks that a message of 4 KiB or more
// compresses at least 3x on its own with DEFLATE level 1, as the servers
// compress it with no context takeover.
func TestJSONPayloadCompresses(t *testing.T) {
	t.Parallel()
	for _, n := range []int{4096, 16384, 65536} {
		msg := makeJSON(t, n, 1, 12345)
		var z bytes.Buffer
		w, err := flate.NewWriter(&z, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(msg); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		ratio := float64(n) / float64(z.Len())
		t.Logf("%d B -> %d B (%.1fx)", n, z.Len(), ratio)
		if ratio < 3 {
			t.Errorf("%d B compresses to %d B, only %.1fx", n, z.Len(), ratio)
		}
	}
}

func BenchmarkJSONPayloadFill(b *testing.B) {
	tm, err := newJSONTemplate(4096)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, tm.size())
	b.SetBytes(int64(len(dst)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tm.fill(dst, 1, uint64(i))
	}
}
