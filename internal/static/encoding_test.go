package static

import "testing"

func TestParseAcceptEncoding(t *testing.T) {
	t.Parallel()
	all := [nCodings]bool{true, true, true}
	for _, tt := range []struct {
		field string
		want  coding
	}{
		{"", identity},
		{"br", brCoding},
		{"gzip;q=1, br;q=0.999", gzipCoding},
		{" br ; q=0.5 ,gzip;q=0.5", brCoding},
		{"br;level=5;q=0.2, gzip;q=0.1", brCoding},
		{"br;q=, gzip", gzipCoding},
		{"br;q=1.5, gzip", gzipCoding},
		{"br;q=0.5.5, gzip", gzipCoding},
		{"br;q=1.000, gzip", brCoding},
		{"br;q=1.001, gzip", gzipCoding},
		{"br, br;q=0", brCoding}, // the first counts
		{"identity;q=0, *;q=0", identity},
		{",,, ,gzip,,", gzipCoding},
	} {
		if got := parseAcceptEncoding(tt.field).choose(all); got != tt.want {
			t.Errorf("%q: %s, want %s", tt.field, got.token(), tt.want.token())
		}
	}
	if got := parseAcceptEncoding("br").choose([nCodings]bool{true, true, false}); got != identity {
		t.Errorf("br without a br variant: %s", got.token())
	}
}
