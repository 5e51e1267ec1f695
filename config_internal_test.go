package wsgate

import "testing"

func TestDefaultMaxConns(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		limit uint64
		want  int
	}{
		{0, -1},
		{20_000, 19_488},
		{1024, 896},
		{256, 192},
		{64, -1},
		{1 << 40, -1},
	} {
		if got := defaultMaxConns(tt.limit); got != tt.want {
			t.Errorf("defaultMaxConns(%d) = %d, want %d", tt.limit, got, tt.want)
		}
	}
}
