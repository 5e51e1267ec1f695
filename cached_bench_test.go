package wsgate_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/ws"
)

// BenchmarkCachedCall measures the server's side of cache hits against
// echoes of the same reply size, over loopback on the epoll engine: 16
// connections, each with 8 messages in flight. The call+auth variants
// make the same calls on connections authenticated with a JWT (HS256,
// in the handshake), so that the two tell the cost of authentication on
// the cached path; the call+auth+perms variants add Config.Permissions
// of four call patterns, the method matching the last. Profile the
// server with -cpuprofile and -focus
// 'wsgate|engine|cache|envelope'. WSGATE_BENCH_ENGINE=uring runs the
// server on the io_uring engine instead.
func BenchmarkCachedCall(b *testing.B) {
	if eng := benchEngine(); !eng.Supported() {
		b.Skipf("no %v here", eng)
	}
	for _, size := range []int{40, 1000} {
		result := jsonArray(size)
		reply := len(fmt.Sprintf(`{"id":1234567,"result":%s}`, result))
		call := func(id int) []byte {
			return fmt.Appendf(nil, `{"id":%d,"call":"big","args":{"symbol":"ACME","points":14}}`, 1000000+id%1000000)
		}
		b.Run(fmt.Sprintf("call/%dB", reply), func(b *testing.B) {
			benchLoad(b, result, "/ws", noAuth, call)
		})
		b.Run(fmt.Sprintf("call+auth/%dB", reply), func(b *testing.B) {
			benchLoad(b, result, "/ws", withToken, call)
		})
		b.Run(fmt.Sprintf("call+auth+perms/%dB", reply), func(b *testing.B) {
			benchLoad(b, result, "/ws", withPermissions, call)
		})
		b.Run(fmt.Sprintf("echo/%dB", reply), func(b *testing.B) {
			msg := []byte(strings.Repeat("e", reply))
			benchLoad(b, result, "/echo", noAuth, func(int) []byte { return msg })
		})
	}
}

// benchAuth is how a benchmark's server authenticates.
type benchAuth int

const (
	noAuth          benchAuth = iota
	withToken                 // a JWT in each connection's handshake
	withPermissions           // withToken, and Config.Permissions to check
)

// benchEngine is the engine BenchmarkCachedCall's server runs on:
// EngineEpoll, or EngineUring when WSGATE_BENCH_ENGINE is "uring".
func benchEngine() wsgate.EngineKind {
	if os.Getenv("WSGATE_BENCH_ENGINE") == "uring" {
		return wsgate.EngineUring
	}
	return wsgate.EngineEpoll
}

// benchLoad runs the load; with auth, the server authenticates
// connections and each presents a token in its handshake.
func benchLoad(b *testing.B, result []byte, path string, auth benchAuth, msg func(id int) []byte) {
	cfg := wsgate.Config{Engine: benchEngine(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if auth == withPermissions {
		cfg.Permissions = &wsgate.Permissions{Call: []string{"market.*", "user.{user}.>", "admin.>", "big"}}
	}
	authed := auth != noAuth
	var dialOpts ws.DialOptions
	if authed {
		cfg.Authenticate = jwtAuth(b)
		dialOpts.Subprotocols = []string{wsgate.Subprotocol, "wsgate.auth." + signed(b, "bench", time.Hour)}
	}
	srv, err := wsgate.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	srv.Handle("big", func(context.Context, json.RawMessage) (any, error) { return json.RawMessage(result), nil }, wsgate.CacheFor(time.Hour))
	ts := httptest.NewServer(srv.Handler())
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		ts.Close()
	}()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + path
	const conns, inflight = 16, 8
	per := b.N/conns + 1
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	for range conns {
		nc, br, _, err := ws.Dial(context.Background(), url, dialOpts)
		if err != nil {
			b.Fatal(err)
		}
		defer nc.Close()
		if authed { // {"auth":{"user":"bench","exp":…}}
			if err := skipFrame(br); err != nil {
				b.Fatal(err)
			}
		}
		wg.Go(func() {
			bw := bufio.NewWriter(nc)
			for i := 0; i < per; i += inflight {
				n := min(inflight, per-i)
				for j := range n {
					bw.Write(ws.AppendMaskedFrame(nil, ws.OpText, true, 0, ws.NewMaskKey(), msg(i+j)))
				}
				bw.Flush()
				for range n {
					if err := skipFrame(br); err != nil {
						b.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// skipFrame reads one unmasked server frame and drops it.
func skipFrame(br *bufio.Reader) error {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return err
	}
	n := int64(h[1] & 0x7f)
	switch n {
	case 126:
		var e [2]byte
		if _, err := io.ReadFull(br, e[:]); err != nil {
			return err
		}
		n = int64(binary.BigEndian.Uint16(e[:]))
	case 127:
		var e [8]byte
		if _, err := io.ReadFull(br, e[:]); err != nil {
			return err
		}
		n = int64(binary.BigEndian.Uint64(e[:]))
	}
	_, err := br.Discard(int(n))
	return err
}
