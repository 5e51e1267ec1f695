package hub

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/ws/wsflate"
)

// TestPublishDeflatable checks that a Hub with a Codec hands every
// subscriber the same frame, whose deflated twin is compressed once
// however many subscribers ask for it, and that a Hub without one sends
// frames that have no twin.
func TestPublishDeflatable(t *testing.T) {
	t.Parallel()
	codec, err := wsflate.New(wsflate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	data := json.RawMessage(`{"text":"` + strings.Repeat("all work and no play ", 100) + `"}`)
	tests := []struct {
		name  string
		codec *wsflate.Codec
		twin  bool
	}{
		{"with codec", codec, true},
		{"without codec", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := New(Options{Codec: tt.codec})
			subs := make([]*recorder, 10)
			for i := range subs {
				subs[i] = &recorder{}
				subscribe(t, h, "news", subs[i])
			}
			before := codec.Stats().Compressions
			h.Publish("news", Publication{Seq: 1, Epoch: "e", Data: data})
			f := subs[0].frames[0]
			for _, s := range subs {
				if s.frames[0] != f {
					t.Fatal("subscribers got different frames")
				}
				if z := s.frames[0].Deflated(wsflate.WindowFull); (z != nil) != tt.twin {
					t.Fatalf("deflated twin present = %v, want %v", z != nil, tt.twin)
				}
			}
			if tt.twin {
				if got := codec.Stats().Compressions - before; got != 1 {
					t.Errorf("%d compressions for one publication to %d subscribers, want 1", got, len(subs))
				}
			}
		})
	}
}
