package client_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestCompression: by default the client offers permessage-deflate and
// inflates what the server compresses; DisableCompression turns it off.
func TestCompression(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		disable bool
	}{
		{"offered", false},
		{"disabled", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := startNode(t, nil, 0)
			r := newRecorder()
			opts := fast(r)
			opts.DisableCompression = tt.disable
			c := dial(t, []string{n.url}, opts)
			subscribe(t, c, "big", r)
			text := strings.Repeat("all work and no play makes a dull message ", 1000) // 42 KB, under the server's 64 KiB publish limit
			seq, err := c.Publish(ctxGuard(t), "big", map[string]string{"text": text})
			if err != nil {
				t.Fatal(err)
			}
			r.waitPublications(t, seq)
			r.mu.Lock()
			got := r.msgs[0].Data
			r.mu.Unlock()
			want, _ := json.Marshal(map[string]string{"text": text})
			if !bytes.Equal(got, want) {
				t.Fatalf("got %d bytes, not the %d published", len(got), len(want))
			}
			deflated := n.srv.Stats().Compression.FramesDeflated
			if tt.disable && deflated != 0 {
				t.Errorf("%d frames sent deflated with compression disabled", deflated)
			}
			if !tt.disable && deflated == 0 {
				t.Error("no frame sent deflated")
			}
		})
	}
}
