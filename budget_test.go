package wsgate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
)

// TestInputBudgetRefusesCalls fills a tiny Config.MaxBufferedInput with
// the args of calls to a handler that blocks: calls and pubs past it are
// answered unavailable without running, calls without args and cache
// hits still answer, and once the handlers return the budget is back to
// zero and a large pub goes through.
func TestInputBudgetRefusesCalls(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, url := startServer(t, wsgate.Config{Engine: eng, MaxBufferedInput: 64 << 10})
		release := make(chan struct{})
		srv.Handle("hold", func(ctx context.Context, _ json.RawMessage) (any, error) {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return "held", nil
		})
		srv.Handle("quick", func(context.Context, json.RawMessage) (any, error) { return "quick", nil })
		srv.Handle("cached", func(context.Context, json.RawMessage) (any, error) { return "cached", nil }, wsgate.CacheFor(time.Minute))
		c := dial(t, url+"/ws")
		if r := request(t, c, `{"id":"c0","call":"cached","args":{"k":1}}`); string(r.Result) != `"cached"` {
			t.Fatalf("cached call: %+v", r)
		}

		// Each call's args are 20 KiB: two always fit in 64 KiB; the
		// decoder's copy of a message that came in several reads is
		// charged while it is handled, so the third or the fourth fits
		// when its message came in one read, never both. The pub's
		// 30 KiB never fits beside two calls.
		pad := strings.Repeat("x", 20<<10)
		for i := 1; i <= 4; i++ {
			send(t, c, fmt.Sprintf(`{"id":%d,"call":"hold","args":{"pad":%q}}`, i, pad))
		}
		send(t, c, fmt.Sprintf(`{"id":"p1","pub":"ch","data":{"pad":%q}}`, strings.Repeat("y", 30<<10)))
		send(t, c, `{"id":"q","call":"quick"}`)
		send(t, c, `{"id":"c1","call":"cached","args":{"k":1}}`)
		refused := map[string]bool{}
		for answered := 0; answered < 2; {
			r := next(t, c)
			switch id := string(r.ID); {
			case id == `"q"` || id == `"c1"`:
				if r.Error != nil {
					t.Fatalf("call %s with the budget spent: %+v", id, r.Error)
				}
				answered++
			case r.Error != nil && r.Error.Code == "unavailable":
				if !strings.Contains(r.Error.Message, "input budget spent") {
					t.Errorf("refusal %s says %q", id, r.Error.Message)
				}
				refused[id] = true
			default:
				t.Fatalf("unexpected reply %+v", r)
			}
		}
		if !refused[`"p1"`] || !refused["3"] && !refused["4"] || refused["1"] || refused["2"] {
			t.Errorf("refused %v; want the pub, the third or fourth call or both, and neither of the first two", refused)
		}
		st := srv.Stats()
		if st.InputBytes < 40<<10 {
			t.Errorf("Stats.InputBytes = %d with two calls held, want at least 40 KiB", st.InputBytes)
		}
		if got := st.Limits.InputBudget; got != uint64(len(refused)) {
			t.Errorf("Limits.InputBudget = %d, want %d", got, len(refused))
		}

		close(release)
		for range 5 - len(refused) { // the held calls: four less those refused (p1 is a pub)
			if r := next(t, c); string(r.Result) != `"held"` {
				t.Fatalf("held call: %+v", r)
			}
		}
		waitUntil(t, func() bool { return srv.Stats().InputBytes == 0 })
		// 20 KiB: the decoder's buffer (charged at its capacity while the
		// message is handled) and the pub's copy fit in 64 KiB together.
		if r := request(t, c, fmt.Sprintf(`{"id":"p2","pub":"ch","data":{"pad":%q}}`, strings.Repeat("y", 20<<10))); r.Error != nil {
			t.Fatalf("pub after the budget was freed: %+v", r.Error)
		}
		waitUntil(t, func() bool { return srv.Stats().InputBytes == 0 })
	})
}
