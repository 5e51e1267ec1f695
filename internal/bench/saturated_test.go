package bench

import (
	"strings"
	"testing"
)

func TestClientSaturated(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		cpu, window float64
		cores       int
		want        bool
	}{
		{"one core used whole", 6.0, 6.0, 1, true},
		{"90 % of one core", 5.4, 6.0, 1, true},
		{"half of one core", 3.0, 6.0, 1, false},
		{"one of two cores", 6.0, 6.0, 2, false},
		{"two cores used whole", 11.5, 6.0, 2, true},
		{"no window", 1.0, 0, 1, false},
		{"cores unknown (an older result)", 6.0, 6.0, 0, false},
	} {
		got := clientSaturated(tc.cpu, tc.window, tc.cores)
		if got != tc.want {
			t.Errorf("%s: saturated %v, want %v", tc.name, got, tc.want)
		}
		res := &Result{ClientCores: tc.cores, ClientSaturated: got}
		if note := saturatedNote(res); (note != "") != tc.want || tc.want && !strings.Contains(note, "saturated") {
			t.Errorf("%s: note %q", tc.name, note)
		}
	}
}
