package wsgate_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/internal/measuretest"
	"github.com/wsgate/wsgate/ws"
)

// TestMeasureContextTakeover prints the server memory a connection with
// context takeover holds: N connections (WSGATE_MEASURE_N, default 64)
// each receive one 4 KB JSON message compressed, then sit idle; the heap
// in use is compared with the same run on a server without context
// takeover (the clients live in this process too, the same in both
// runs). It also checks that closing them gives the memory back. Runs
// only with WSGATE_MEASURE=1:
//
//	WSGATE_MEASURE=1 go test -run TestMeasureContextTakeover -v .
func TestMeasureContextTakeover(t *testing.T) {
	measuretest.Require(t)
	n := measuretest.N(64)
	for _, eng := range engines {
		for _, level := range []int{1, 6, 9} {
			var stateless float64
			for _, takeover := range []bool{false, true} {
				t.Run(fmt.Sprintf("%v/level=%d/takeover=%v", eng, level, takeover), func(t *testing.T) {
					cfg := wsgate.Config{Engine: eng, Compression: wsgate.CompressionConfig{Level: level}}
					cfg.Compression.ContextTakeover = takeover
					cfg.Compression.MaxContexts = n
					perConn, after := measureTakeover(t, cfg, n)
					if !takeover {
						stateless = perConn
					}
					t.Logf("%v level %d, context takeover %v: %d connections, heap in use %.0f bytes per connection (%+.0f vs without context takeover); after closing them %+.0f KiB",
						eng, level, takeover, n, perConn, perConn-stateless, float64(after)/1024)
				})
			}
		}
	}
}

// measureTakeover runs n connections on a server made from cfg and
// returns the heap in use per connection once each has received one
// compressed message, and the heap in use after they closed, both
// against the heap before they opened.
func measureTakeover(t *testing.T, cfg wsgate.Config, n int) (perConn float64, after int64) {
	srv, base := startServer(t, cfg)
	msg := jsonPayload(4 << 10)
	open := func() []*rfcPeer {
		peers := make([]*rfcPeer, n)
		for i := range peers {
			ctx, cancel := context.WithTimeout(context.Background(), rfcIOTimeout)
			nc, br, _, err := ws.Dial(ctx, base+"/echo", ws.DialOptions{Extensions: "permessage-deflate; client_no_context_takeover"})
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			nc.SetDeadline(time.Now().Add(rfcIOTimeout))
			p := &rfcPeer{t: t, nc: nc, br: br}
			p.write(masked(ws.OpText, true, msg))
			if f, err := p.readFrame(); err != nil || f.rsv != ws.Rsv1 {
				t.Fatalf("echo: %v, %v: want it compressed", f, err)
			}
			peers[i] = p
		}
		return peers
	}
	closeAll := func(peers []*rfcPeer) {
		for _, p := range peers {
			p.nc.Close()
		}
		waitUntil(t, func() bool { return srv.Conns() == 0 })
	}
	closeAll(open()) // warm up: pools, loops, buffers
	base0 := measuretest.LiveHeap()
	peers := open()
	held := measuretest.LiveHeap()
	closeAll(peers)
	if got := srv.Stats().Compression.Contexts; got != 0 {
		t.Errorf("%v contexts held after every connection closed", got)
	}
	runtime.KeepAlive(peers)
	return float64(int64(held)-int64(base0)) / float64(n), int64(measuretest.LiveHeap()) - int64(base0)
}
